// The "waiting to send" page: each queued visit with its state, retry, fix, discard.
(function () {
  'use strict';
  var list = document.getElementById('outbox-list');
  if (!list || !window.Outbox) return;
  var states = JSON.parse(list.dataset.states);
  var empty = document.querySelector('.outbox-empty');

  function row(item) {
    var li = document.createElement('li');
    li.className = 'route-row outbox-item state-' + item.state;
    li.dataset.clientUuid = item.client_uuid;
    var top = document.createElement('p');
    top.className = 'row-link';
    var when = new Date(item.created_at);
    top.textContent = (item.unit_label || '') + ' · ' + when.toLocaleString() + ' · ' +
      list.dataset.photos.replace('{n}', item.photos.length);
    var state = document.createElement('p');
    state.className = 'outbox-state';
    state.textContent = states[item.state] + (item.last_error ? ': ' + item.last_error : '');
    li.appendChild(top); li.appendChild(state);
    // What the server said, field by field: the reason it needs attention.
    var names = Object.keys(item.errors || {});
    if (names.length) {
      var reasons = document.createElement('ul');
      reasons.className = 'outbox-errors';
      names.forEach(function (name) {
        var r = document.createElement('li');
        r.textContent = item.errors[name];
        reasons.appendChild(r);
      });
      li.appendChild(reasons);
    }
    var actions = document.createElement('p');
    actions.className = 'outbox-actions';
    var fix = document.createElement('a');
    fix.className = 'button';
    var url = new URL(item.url, location.href);
    fix.href = url.pathname.replace(/\/visits$/, '/visits/new') + '?restore=' + item.client_uuid +
      (url.searchParams.get('next') ? '&next=' + encodeURIComponent(url.searchParams.get('next')) : '') +
      (names.length ? '&field=' + encodeURIComponent(names[0]) : '');
    fix.textContent = list.dataset.fix;
    var discard = document.createElement('button');
    discard.type = 'button'; discard.className = 'button danger';
    discard.textContent = list.dataset.discard;
    discard.addEventListener('click', function () {
      if (confirm(list.dataset.confirm)) Outbox.remove(item.client_uuid);
    });
    actions.appendChild(fix); actions.appendChild(discard);
    li.appendChild(actions);
    return li;
  }
  function render(items) {
    list.textContent = '';
    items.forEach(function (item) { list.appendChild(row(item)); });
    empty.hidden = items.length > 0;
  }
  document.addEventListener('outbox:changed', function (e) { render(e.detail); });
  Outbox.mine().then(render);
  document.querySelector('.send-now').addEventListener('click', function () {
    Outbox.mine().then(function (items) {
      return Promise.all(items.map(function (i) {
        i.state = 'waiting'; i.next_try_at = 0; return Outbox.put(i);
      }));
    }).then(function () { Outbox.drain(); });
  });
})();
