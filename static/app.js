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
