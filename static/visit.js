// Log a visit: mint the visit's id, capture GPS quietly, keep photos with thumbnails,
// and send the form so that nothing typed or photographed is lost on an error.
(function () {
  'use strict';
  var form = document.querySelector('form[data-visit-form]');
  if (!form) return;
  var photos = [];  // {file, url}
  var thumbs = form.querySelector('.thumbs');
  var submit = form.querySelector('.submit-visit');
  var message = document.getElementById('form-message');

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  // The id is minted when the form opens, so a retried send is recognised as the same visit.
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

  function renderThumbs() {
    thumbs.textContent = '';
    photos.forEach(function (p, i) {
      var li = document.createElement('li');
      var img = document.createElement('img');
      img.src = p.url; img.alt = p.file.name;
      var remove = document.createElement('button');
      remove.type = 'button'; remove.textContent = '×';
      remove.setAttribute('aria-label', (form.dataset.removeLabel || 'Remove') + ' ' + p.file.name);
      remove.addEventListener('click', function () {
        URL.revokeObjectURL(p.url); photos.splice(i, 1); renderThumbs();
      });
      li.appendChild(img); li.appendChild(remove); thumbs.appendChild(li);
    });
  }
  form.querySelectorAll('input[type=file][name=photos]').forEach(function (input) {
    input.addEventListener('change', function () {
      Array.prototype.forEach.call(input.files, function (file) {
        photos.push({ file: file, url: URL.createObjectURL(file) });
      });
      input.value = '';  // the page keeps the files; the input can take more
      renderThumbs();
    });
  });

  function showErrors(errors) {
    form.querySelectorAll('.field-error').forEach(function (p) { p.hidden = true; p.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach(function (el) { el.removeAttribute('aria-invalid'); });
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var p = document.getElementById('err-' + name);
      if (!p) return;
      p.textContent = errors[name]; p.hidden = false;
      var field = form.querySelector('[aria-describedby="err-' + name + '"]');
      if (field) { field.setAttribute('aria-invalid', 'true'); first = first || field; }
    });
    return first;
  }
  function say(text) { message.textContent = text; message.hidden = !text; }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var data = new FormData(form);
    data.delete('photos');
    photos.forEach(function (p) { data.append('photos', p.file, p.file.name); });
    data.set('device_time', new Date().toISOString());
    var token = document.querySelector('meta[name="csrf-token"]').content;
    submit.disabled = true; say('');
    fetch(form.action, { method: 'POST', body: data, credentials: 'same-origin', redirect: 'manual',
      headers: { 'Accept': 'application/json', 'X-CSRFToken': token } })
      .then(function (r) {
        if (r.type === 'opaqueredirect' || r.status === 401) {
          say(form.dataset.signinMessage); return null;
        }
        return r.json().then(function (body) { return { status: r.status, body: body }; });
      })
      .then(function (res) {
        if (!res) return;
        if (res.status === 200 || res.status === 201) {
          photos.forEach(function (p) { URL.revokeObjectURL(p.url); });
          location.href = res.body.next;
          return;
        }
        var first = res.body.errors ? showErrors(res.body.errors) : null;
        say(res.body.errors ? form.dataset.checkMessage : (res.body.message || form.dataset.failMessage));
        (first || message).focus();
      })
      .catch(function () { say(form.dataset.offlineMessage); message.focus(); })
      .finally(function () { submit.disabled = false; });
  });
})();
