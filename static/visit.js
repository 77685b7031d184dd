// Log a visit: mint the visit's id, capture GPS quietly, keep photos with thumbnails,
// and hand the visit to the outbox, which stores it on the phone before sending, so
// that nothing typed or photographed is lost to an error or a dead stairwell.
(function () {
  'use strict';
  var form = document.querySelector('form[data-visit-form]');
  if (!form) return;
  var photos = [];  // {file: Blob with a name, url, meta}
  var thumbs = form.querySelector('.thumbs');
  var submit = form.querySelector('.submit-visit');
  var message = document.getElementById('form-message');
  var LONG_EDGE = 2048;

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  // Minted when the form opens (never by the server: a cached form page would reuse it),
  // so every retry of this visit is recognised as the same visit.
  var idField = form.elements.client_uuid;
  if (!idField.value) idField.value = uuid4();

  // GPS: watch from the start, keep the most accurate fix, never block saving on it.
  var geoStatus = form.querySelector('.geo-status');
  if (navigator.geolocation) {
    var best = null;
    navigator.geolocation.watchPosition(function (pos) {
      if (best && best.coords.accuracy <= pos.coords.accuracy) return;
      best = pos;
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lon.value = pos.coords.longitude.toFixed(6);
      form.elements.accuracy.value = Math.round(pos.coords.accuracy);
      form.elements.geo_error.value = '';
      geoStatus.textContent = geoStatus.dataset.ok || '';
    }, function (err) {
      if (!best) form.elements.geo_error.value = String(err.code);
    }, { enableHighAccuracy: true, maximumAge: 0, timeout: 30000 });
  }

  // Downscaling strips EXIF, so the capture time is read first (DateTimeOriginal in
  // the Exif IFD of a JPEG's APP1 segment) and sent beside the photo as client-reported.
  function exifTakenAt(file) {
    if (file.type !== 'image/jpeg' || !file.slice) return Promise.resolve(null);
    return file.slice(0, 131072).arrayBuffer().then(function (buf) {
      var v = new DataView(buf), off = 2;
      if (v.getUint16(0) !== 0xFFD8) return null;
      while (off + 4 < v.byteLength) {
        var marker = v.getUint16(off), size = v.getUint16(off + 2);
        if (marker === 0xFFE1 && v.getUint32(off + 4) === 0x45786966) {
          var t = off + 10, le = v.getUint16(t) === 0x4949;
          var u16 = function (o) { return v.getUint16(t + o, le); };
          var u32 = function (o) { return v.getUint32(t + o, le); };
          var find = function (ifd, tag) {
            for (var i = 0, n = u16(ifd); i < n; i++) {
              var e = ifd + 2 + i * 12;
              if (u16(e) === tag) return e;
            }
            return -1;
          };
          var ptr = find(u32(4), 0x8769);
          if (ptr < 0) return null;
          var entry = find(u32(ptr + 8), 0x9003);
          if (entry < 0) return null;
          var at = u32(entry + 8), text = '';
          for (var k = 0; k < 19; k++) text += String.fromCharCode(v.getUint8(t + at + k));
          return /^\d{4}:\d\d:\d\d \d\d:\d\d:\d\d$/.test(text) ? text : null;
        }
        if ((marker & 0xFF00) !== 0xFF00) return null;
        off += 2 + size;
      }
      return null;
    }).catch(function () { return null; });
  }

  // Photos are made smaller on the phone (long edge 2048 px, orientation kept) so they
  // travel on a weak signal; the server still checks and processes every one.
  function shrink(file) {
    var meta = { name: file.name, type: file.type, size: file.size, last_modified: file.lastModified };
    return exifTakenAt(file).then(function (taken) {
      if (taken) meta.exif_taken_at = taken;
      if (!window.createImageBitmap) return { blob: file, meta: meta };
      return downscale(file, meta);
    });
  }

  function downscale(file, meta) {
    return createImageBitmap(file).then(function (bitmap) {
      var scale = LONG_EDGE / Math.max(bitmap.width, bitmap.height);
      meta.width = bitmap.width; meta.height = bitmap.height;
      if (scale >= 1 && file.type === 'image/jpeg') { bitmap.close(); return { blob: file, meta: meta }; }
      scale = Math.min(scale, 1);
      var canvas = document.createElement('canvas');
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          meta.downscaled = true;
          resolve({ blob: blob || file, meta: meta });
        }, 'image/jpeg', 0.85);
      });
    }, function () {
      return { blob: file, meta: meta };  // HEIC and friends: the server converts them
    });
  }

  function renderThumbs() {
    thumbs.textContent = '';
    photos.forEach(function (p, i) {
      var li = document.createElement('li');
      var img = document.createElement('img');
      img.src = p.url; img.alt = p.name;
      var remove = document.createElement('button');
      remove.type = 'button'; remove.textContent = '×';
      remove.setAttribute('aria-label', (form.dataset.removeLabel || 'Remove') + ' ' + p.name);
      remove.addEventListener('click', function () {
        URL.revokeObjectURL(p.url); photos.splice(i, 1); renderThumbs();
      });
      li.appendChild(img); li.appendChild(remove); thumbs.appendChild(li);
    });
  }
  function addPhoto(blob, name, meta) {
    photos.push({ blob: blob, name: name, meta: meta, url: URL.createObjectURL(blob) });
  }
  form.querySelectorAll('input[type=file][name=photos]').forEach(function (input) {
    input.addEventListener('change', function () {
      var files = Array.prototype.slice.call(input.files);
      input.value = '';  // the page keeps the photos; the input can take more
      submit.disabled = true;
      Promise.all(files.map(shrink)).then(function (shrunk) {
        shrunk.forEach(function (s, i) {
          // A Blob copy, not the File: a stored File can become unreadable on Android.
          addPhoto(s.blob, files[i].name, s.meta);
        });
        renderThumbs();
      }).finally(function () { submit.disabled = false; });
    });
  });

  // A refused save: each message beside its field, a summary on top linking to each,
  // and the first field in error scrolled to and focused.
  var summaryLinks = message.querySelector('.summary-links');
  var labels = JSON.parse((summaryLinks && summaryLinks.dataset.labels) || '{}');
  function showErrors(errors) {
    form.querySelectorAll('.field-error').forEach(function (p) { p.hidden = true; p.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach(function (el) { el.removeAttribute('aria-invalid'); });
    if (summaryLinks) summaryLinks.textContent = '';
    var first = null;
    Object.keys(errors || {}).forEach(function (name) {
      var p = document.getElementById('err-' + name);
      if (!p) return;
      p.textContent = errors[name]; p.hidden = false;
      var field = form.querySelector('[aria-describedby="err-' + name + '"]');
      if (field) { field.setAttribute('aria-invalid', 'true'); first = first || field; }
      if (summaryLinks) {
        var li = document.createElement('li'), a = document.createElement('a');
        a.href = '#err-' + name;
        a.textContent = (labels[name] || name) + ': ' + errors[name];
        li.appendChild(a); summaryLinks.appendChild(li);
      }
    });
    return first;
  }
  function focusField(field) {
    var target = field.matches('fieldset') ? field.querySelector('input') || field : field;
    target.scrollIntoView({ block: 'center' });
    target.focus({ preventScroll: true });
  }
  // A page re-rendered by the server with errors lands on the first of them.
  var firstInvalid = form.querySelector('[aria-invalid="true"]');
  if (firstInvalid) focusField(firstInvalid);

  // Sensible defaults, until the user chooses: a notice at the door when nobody is
  // home (the one the unit's stage calls for), handed over when someone was met.
  var touched = {};
  ['notice_type', 'delivery'].forEach(function (name) {
    form.querySelectorAll('input[name=' + name + ']').forEach(function (r) {
      r.addEventListener('click', function () { touched[name] = true; });
    });
  });
  function choose(name, value) {
    if (touched[name]) return;
    var radio = form.querySelector('input[name=' + name + '][value="' + value + '"]');
    if (radio) radio.checked = true;
  }
  form.querySelectorAll('input[name=outcome]').forEach(function (r) {
    r.addEventListener('change', function () {
      if (r.value === 'nobody_home') {
        choose('notice_type', form.dataset.suggestedNotice || 'reminder'); choose('delivery', 'door');
      } else {
        choose('notice_type', 'none');
        if (r.value === 'met_owner' || r.value === 'met_occupant') choose('delivery', 'handed');
      }
    });
  });
  // Date chips fill the date field: a thumb, not a calendar.
  form.querySelectorAll('[data-fill-date]').forEach(function (chip) {
    chip.setAttribute('aria-pressed', 'false');
    chip.addEventListener('click', function () {
      var field = form.elements[chip.dataset.target];
      field.value = chip.dataset.fillDate;
      field.dispatchEvent(new Event('change', { bubbles: true }));
      form.querySelectorAll('[data-fill-date]').forEach(function (c) {
        c.setAttribute('aria-pressed', String(c === chip));
      });
    });
  });
  var summaryText = message.querySelector('.summary-text');
  function say(text, kind) {
    summaryText.textContent = text; message.hidden = !text;
    if (kind === 'ok' && summaryLinks) summaryLinks.textContent = '';
    message.className = (kind === 'ok' ? 'saved-message' : 'form-error') + ' error-summary';
  }

  function fields() {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== 'photos' && name !== 'csrf_token') out.push([name, String(value)]);
    });
    return out;
  }

  form.addEventListener('submit', function (e) {
    if (!window.Outbox || !window.indexedDB) return;  // plain form post
    e.preventDefault();
    form.elements.device_time.value = new Date().toISOString();
    var userMeta = document.querySelector('meta[name="user-id"]');
    var item = {
      client_uuid: idField.value, user_id: userMeta ? userMeta.content : '',
      url: form.action, next: form.dataset.next, unit_label: form.dataset.unitLabel,
      fields: fields(),
      photos: photos.map(function (p) { return { name: p.name, blob: p.blob, meta: p.meta }; }),
    };
    submit.disabled = true; say('');
    // On the phone first; only then the network.
    Outbox.put(item).then(function () { return Outbox.drain(); }).then(function () {
      return Outbox.get(item.client_uuid);
    }).then(function (left) {
      if (!left) {  // the server has it
        photos.forEach(function (p) { URL.revokeObjectURL(p.url); });
        // The list confirms the save by name and offers the next unit.
        var next = form.dataset.next.split('#')[0];
        location.href = next + (next.indexOf('?') < 0 ? '?' : '&') + 'saved=' + form.dataset.unitId;
        return;
      }
      if (left.state === 'needs_user') {
        var first = showErrors(left.errors);
        say(left.errors ? form.dataset.checkMessage : (left.last_error || form.dataset.failMessage));
        if (first) focusField(first); else message.focus();
        return;
      }
      say(left.state === 'waiting_auth' ? form.dataset.signinMessage : form.dataset.queuedMessage, 'ok');
      message.focus();
    }, function () {
      say(form.dataset.failMessage); message.focus();
    }).finally(function () { submit.disabled = false; });
  });

  // "Fix" from the outbox page: the stored visit comes back into the form as it was.
  var restore = new URLSearchParams(location.search).get('restore');
  if (restore && window.Outbox) {
    Outbox.get(restore).then(function (item) {
      if (!item) return;
      item.fields.forEach(function (pair) {
        // Visits queued by older pages said "promised" or "paid on the spot" as outcomes.
        if (pair[0] === 'outcome' && (pair[1] === 'promised' || pair[1] === 'paid_on_site')) {
          if (pair[1] === 'paid_on_site') form.elements.paid.checked = true;
          pair = ['outcome', 'met_owner'];
        }
        var el = form.elements[pair[0]];
        if (!el) return;
        if (el instanceof RadioNodeList || (el.length && el[0] && el[0].type === 'radio')) {
          Array.prototype.forEach.call(el, function (r) { r.checked = r.value === pair[1]; });
        } else if (el.type === 'checkbox') {
          el.checked = true;
        } else {
          el.value = pair[1];
        }
      });
      item.photos.forEach(function (p) { addPhoto(p.blob, p.name, p.meta); });
      renderThumbs();
      var first = item.errors ? showErrors(item.errors) : null;
      if (item.last_error || item.errors) say(item.last_error || form.dataset.checkMessage);
      var at = new URLSearchParams(location.search).get('field');
      var wanted = at && form.querySelector('[aria-describedby="err-' + at + '"]');
      if (wanted || first) focusField(wanted || first);
    });
  }
})();
