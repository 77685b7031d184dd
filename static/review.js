// Review keyboard: J/K step through the queue, A approves (or opens a flagged visit),
// S goes to the send-back comment, O opens the visit, X selects it for approving many.
// Plain forms and links underneath; htmx swaps a decided visit for a line saying so.
(function () {
  'use strict';
  var queue = document.getElementById('review-queue');
  var decide = document.querySelector('.review-decide');
  if (!queue && !decide) return;
  var last = null;  // the item the keys act on when focus has moved inside or away
  var pending = null;  // a decision on its way: {id, next}

  function typing(el) {
    return !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function items() { return Array.prototype.slice.call(document.querySelectorAll('.review-item')); }
  function current() {
    var el = document.activeElement;
    var item = el && el.closest ? el.closest('.review-item') : null;
    return item || (last && document.body.contains(last) ? last : null);
  }
  function focusItem(item) {
    if (!item) return;
    last = item;
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: 'nearest' });
  }
  function after(item) {
    var list = items();
    return list[list.indexOf(item) + 1] || null;
  }
  function step(by) {
    var list = items();
    if (!list.length) return;
    var i = list.indexOf(current());
    focusItem(list[i < 0 ? 0 : Math.max(0, Math.min(list.length - 1, i + by))]);
  }
  function press(scope, selector) {
    var el = scope && scope.querySelector(selector);
    if (el) el.click();
    return !!el;
  }

  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && typing(e.target) && e.target.matches('[data-comment]')) {
      var owner = e.target.closest('.review-item');
      if (owner) { e.preventDefault(); focusItem(owner); }
      return;
    }
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    var key = (e.key || '').toLowerCase();
    var done = false;
    if (!queue) {
      if (key === 'a') done = press(decide, '[data-approve]');
      else if (key === 's') { var box = decide.querySelector('[data-comment]'); if (box) { box.focus(); done = true; } }
    } else if (key === 'j') { step(1); done = true; }
    else if (key === 'k') { step(-1); done = true; }
    else {
      var item = current();
      if (!item) return;
      if (key === 'a') done = press(item, '[data-approve]') || press(item, '[data-open-flagged]');
      else if (key === 's') { var c = item.querySelector('[data-comment]'); if (c) { c.focus(); done = true; } }
      else if (key === 'o') done = press(item, '[data-open]');
      else if (key === 'x') done = press(item, '[data-select]');
    }
    if (done) e.preventDefault();
  });

  if (queue) {
    // Where the keyboard was before a plain post came back here (#visit-N).
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.classList.contains('review-item')) focusItem(target);

    document.addEventListener('submit', function (e) {
      var item = e.target.closest && e.target.closest('.review-item');
      if (item) pending = { id: item.id, next: after(item) };
    }, true);
    document.addEventListener('htmx:after:settle', function () {
      if (!pending) return;
      var el = document.getElementById(pending.id);
      if (el && el.hasAttribute('data-decided')) focusItem(pending.next);
      else if (el) {
        var wrong = el.querySelector('[aria-invalid="true"]');
        if (wrong) wrong.focus(); else focusItem(el);
      }
      pending = null;
    });

    var all = document.querySelector('[data-select-all]');
    if (all) {
      all.hidden = false;
      all.addEventListener('click', function () {
        document.querySelectorAll('[data-select]').forEach(function (box) { box.checked = true; });
      });
    }
  }
})();
