// Photo viewer: swipe, arrow keys and Escape on top of plain links. Steps between photos
// replace the history entry, so closing (or the phone's Back) returns to the page the
// viewer was opened from in one step, where that page still has its scroll position.
(function () {
  'use strict';
  var viewer = document.querySelector('[data-viewer]');
  var close = document.querySelector('[data-viewer-close]');
  if (!viewer || !close) return;
  var prev = document.querySelector('a[rel="prev"]');
  var next = document.querySelector('a[rel="next"]');
  var frame = viewer.querySelector('.viewer-frame');
  var img = viewer.querySelector('.viewer-img');
  var heading = document.getElementById('viewer-h');
  var STEP = '#step';  // a step made here from a photo opened from the close target

  // Came straight from the close target, or stepped here from a photo that did? Then the
  // history entry before this one is that page, and closing is going back to it.
  if (location.hash === STEP) {
    history.replaceState({ viewerReturn: close.href }, '', location.pathname + location.search);
  } else if (document.referrer === close.href) {
    history.replaceState({ viewerReturn: close.href }, '');
  }
  function cameFromClose() { return (history.state || {}).viewerReturn === close.href; }

  function go(link) {
    if (!link) return false;
    // location.replace starts the next page without history state: the hash carries it.
    location.replace(cameFromClose() ? link.href + STEP : link.href);
    return true;
  }

  close.addEventListener('click', function (e) {
    if (cameFromClose() && history.length > 1) {
      e.preventDefault();
      history.back();
    }
  });
  [prev, next].forEach(function (link) {
    if (!link) return;
    link.addEventListener('click', function (e) {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || e.button) return;
      e.preventDefault();
      go(link);
    });
    if (link.dataset.preload) new Image().src = link.dataset.preload;  // the swipe is instant
  });

  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'ArrowLeft' && go(prev)) e.preventDefault();
    else if (e.key === 'ArrowRight' && go(next)) e.preventDefault();
    else if (e.key === 'Escape') { e.preventDefault(); close.click(); }
  });

  // A horizontal swipe steps; a vertical one scrolls; when pinch-zoomed, a finger pans
  // the photo instead (the browser handles that, see .viewer-frame.zoomed in app.css).
  var vv = window.visualViewport;
  function zoomed() { return !!vv && vv.scale > 1.01; }
  if (vv) vv.addEventListener('resize', function () { frame.classList.toggle('zoomed', zoomed()); });
  var start = null;
  function settle() { start = null; img.classList.remove('dragging'); img.style.transform = ''; }
  frame.addEventListener('pointerdown', function (e) {
    if (!e.isPrimary || zoomed() || (e.pointerType === 'mouse' && e.button !== 0)) return;
    start = { id: e.pointerId, x: e.clientX, y: e.clientY };
    if (frame.setPointerCapture) frame.setPointerCapture(e.pointerId);
  });
  frame.addEventListener('pointermove', function (e) {
    if (!start || e.pointerId !== start.id) return;
    var dx = e.clientX - start.x;
    if (Math.abs(dx) > Math.abs(e.clientY - start.y)) {
      img.classList.add('dragging');
      img.style.transform = 'translateX(' + dx + 'px)';  // CSSOM: allowed by the CSP
    }
  });
  frame.addEventListener('pointerup', function (e) {
    if (!start || e.pointerId !== start.id) return;
    var dx = e.clientX - start.x, dy = e.clientY - start.y;
    var swiped = Math.abs(dx) >= 50 && Math.abs(dx) > 1.5 * Math.abs(dy);
    if (!(swiped && go(dx < 0 ? next : prev))) settle();
    else start = null;
  });
  frame.addEventListener('pointercancel', settle);

  if (heading && document.activeElement !== heading) heading.focus({ preventScroll: true });
})();
