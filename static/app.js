// Doorstep page script: CSRF header on htmx requests; location for the distance sort.
(function () {
  'use strict';
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }
  // htmx 4 names the event htmx:config:request; htmx 2 called it htmx:configRequest.
  document.addEventListener('htmx:config:request', function (e) {
    e.detail.ctx.request.headers['X-CSRFToken'] = csrfToken();
  });

  // A field that searches on its own (the building search) sits in a filter form that
  // reloads the list on any change: leaving it after typing must not reload the list.
  document.addEventListener('change', function (e) {
    if (e.target.matches && e.target.matches('[data-own-search]')) e.stopPropagation();
  }, true);

  // Forms that must not be stored twice get their id when they open (OFFLINE.md §2.3).
  document.querySelectorAll('form[data-mint-id] input[name="client_uuid"]').forEach(function (input) {
    if (!input.value && window.crypto && crypto.randomUUID) input.value = crypto.randomUUID();
  });

  // Date fields show the date as the app says it, whatever the browser's own language
  // makes of the picker (mm/dd/yyyy on an English phone in a Chinese app).
  var lang = document.documentElement.lang || 'zh-CN';
  var sayDate = window.Intl ? new Intl.DateTimeFormat(lang, { month: 'long', day: 'numeric',
    weekday: 'short', timeZone: 'UTC' }) : null;
  document.querySelectorAll('input[type=date]').forEach(function (input) {
    if (!sayDate) return;
    var echo = document.createElement('span');
    echo.className = 'date-echo'; echo.setAttribute('aria-live', 'polite');
    input.insertAdjacentElement('afterend', echo);
    function update() {
      echo.textContent = input.value ? sayDate.format(new Date(input.value + 'T00:00:00Z')) : '';
    }
    input.addEventListener('change', update); input.addEventListener('input', update);
    update();
  });

  // A photo input hidden inside its button says what was chosen (a correction's photos).
  document.addEventListener('change', function (e) {
    var input = e.target;
    if (!input.matches || !input.matches('input[type=file][data-chosen]')) return;
    var out = document.getElementById(input.dataset.chosen);
    if (!out || !input.form) return;
    var names = [];
    input.form.querySelectorAll('input[type=file][data-chosen="' + input.dataset.chosen + '"]')
      .forEach(function (each) {
        for (var i = 0; i < each.files.length; i++) names.push(each.files[i].name);
      });
    out.textContent = names.join(', ');
  });

  // "Nearest" needs the phone's position: ask once, then follow the link with it.
  document.addEventListener('click', function (e) {
    var link = e.target.closest && e.target.closest('a[data-needs-location]');
    if (!link || !navigator.geolocation) return;
    e.preventDefault();
    navigator.geolocation.getCurrentPosition(function (pos) {
      var url = new URL(link.href, location.href);
      url.searchParams.set('lat', pos.coords.latitude.toFixed(6));
      url.searchParams.set('lon', pos.coords.longitude.toFixed(6));
      location.href = url.toString();
    }, function () { location.href = link.href; },
    { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
  });
})();

// Installable and offline: the service worker, the "shown as of" banner, prefetching
// the next unit cards, and forgetting cached pages at sign-out.
(function () {
  'use strict';
  var body = document.body;
  if (body.hasAttribute('data-from-cache')) {
    var banner = document.querySelector('.offline-banner');
    var at = new Date(body.dataset.renderedAt);
    var hhmm = ('0' + at.getHours()).slice(-2) + ':' + ('0' + at.getMinutes()).slice(-2);
    banner.textContent = banner.dataset.template.replace('{time}', hhmm);
    banner.hidden = false;
  }
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(function () {});

  function post(message) {
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.active) reg.active.postMessage(message);
    });
  }
  // The next units of the route list, card and visit form, for the stairwell ahead.
  var links = Array.prototype.slice.call(document.querySelectorAll('.route-row .row-link'), 0, 10);
  var signedIn = !!document.querySelector('meta[name="user-id"]');
  if (signedIn && !body.hasAttribute('data-from-cache')) {
    var urls = ['/outbox'];  // the waiting-to-send page must open in the basement too
    links.forEach(function (a) {
      urls.push(a.getAttribute('href'));
      urls.push(a.closest('.route-row').dataset.visitUrl);
    });
    post({ type: 'prefetch', urls: urls });
  }
  document.addEventListener('submit', function (e) {
    if (e.target.matches('form.sign-out')) post({ type: 'forget-pages' });
  });
})();
