// The outbox: visits (fields and photo Blobs) are written to IndexedDB before any
// network is tried, and removed only when the server confirms that client_uuid
// (201 or 200). Every page drains it: on load, when the connection returns, when
// the tab is shown again, every 30 s while items wait, and on Background Sync.
(function () {
  'use strict';
  var DB_NAME = 'doorstep-outbox', STORE = 'visits';
  var channel = 'BroadcastChannel' in window ? new BroadcastChannel('doorstep-outbox') : null;
  var dbPromise = null;

  function open() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var store = req.result.createObjectStore(STORE, { keyPath: 'client_uuid' });
        store.createIndex('created_at', 'created_at');
      };
      req.onsuccess = function () {
        var db = req.result;
        db.onversionchange = function () { db.close(); dbPromise = null; };
        resolve(db);
      };
      req.onerror = function () { reject(req.error); };
      req.onblocked = function () { reject(new Error('outbox blocked by another tab')); };
    });
    return dbPromise;
  }
  function tx(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && 'result' in result ? result.result : result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error || new Error('aborted')); };
      });
    });
  }
  function all() {
    // FIFO by creation time; getAll() by key order would be random (uuid keys).
    return tx('readonly', function (s) { return s.index('created_at').getAll(); });
  }
  function currentUser() {
    var meta = document.querySelector('meta[name="user-id"]');
    return meta ? meta.content : '';
  }
  function mine(items) {
    var me = currentUser();
    return items.filter(function (i) { return String(i.user_id) === me; });
  }
  function changed() {
    if (channel) channel.postMessage('changed');
    render();
  }

  var Outbox = {
    all: all,
    mine: function () { return all().then(mine); },
    get: function (id) { return tx('readonly', function (s) { return s.get(id); }); },
    remove: function (id) { return tx('readwrite', function (s) { s.delete(id); }).then(changed); },
    put: function (item) {
      item.state = item.state || 'waiting';
      item.attempts = item.attempts || 0;
      item.created_at = item.created_at || Date.now();
      item.next_try_at = 0;
      return tx('readwrite', function (s) { s.put(item); }).then(function () {
        if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
        if (navigator.serviceWorker && navigator.serviceWorker.ready) {
          navigator.serviceWorker.ready.then(function (reg) {
            if (reg.sync) reg.sync.register('outbox').catch(function () {});
          });
        }
        changed();
      });
    },
    drain: drain,
  };
  window.Outbox = Outbox;

  function update(item) { return tx('readwrite', function (s) { s.put(item); }).then(changed); }

  function session() {
    return fetch('/api/session', { credentials: 'same-origin', cache: 'no-store',
      headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; });
  }

  function send(item, token) {
    var body = new FormData();
    item.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    body.append('queued_by', item.user_id);
    item.photos.forEach(function (p) {
      body.append('photos', p.blob, p.name);
      body.append('photo_meta', JSON.stringify(p.meta || {}));
    });
    return fetch(item.url, { method: 'POST', body: body, credentials: 'same-origin', redirect: 'manual',
      headers: { 'Accept': 'application/json', 'X-CSRFToken': token },
      signal: AbortSignal.timeout ? AbortSignal.timeout(120000) : undefined });
  }

  function backoff(attempts) {
    var base = Math.min(300000, 2000 * Math.pow(2, attempts));
    return Date.now() + base / 2 + Math.random() * base / 2;
  }

  function handle(item, response) {
    if (response.type === 'opaqueredirect' || response.status === 401) {
      item.state = 'waiting_auth'; item.last_error = '';
      return update(item).then(function () { return 'stop'; });
    }
    return response.json().catch(function () { return {}; }).then(function (body) {
      item.last_status = response.status;
      if ((response.status === 200 || response.status === 201) && body.visit_id &&
          body.client_uuid === item.client_uuid) {
        return Outbox.remove(item.client_uuid).then(function () { return body; });
      }
      if (response.status === 403 && body.error === 'csrf') {
        item.state = 'waiting_auth';
        return update(item).then(function () { return 'stop'; });
      }
      if (response.status >= 500 || response.status === 413 || response.status === 429) {
        item.state = 'waiting'; item.attempts += 1; item.next_try_at = backoff(item.attempts);
        item.last_error = body.message || String(response.status);
        return update(item);
      }
      // 422, 409 (dunning hold), 403, 404: the user has to decide; nothing is dropped.
      item.state = 'needs_user';
      item.last_error = body.message || '';
      item.errors = body.errors || null;
      return update(item);
    });
  }

  var draining = false;
  function drainLocked() {
    return session().then(function (s) {
      if (!s) {  // signed out: every queued item waits for sign-in
        return all().then(function (items) {
          return Promise.all(items.filter(function (i) { return i.state === 'waiting' || i.state === 'sending'; })
            .map(function (i) { i.state = 'waiting_auth'; return update(i); }));
        });
      }
      var me = String(s.user_id);
      return all().then(function (items) {
        var queue = items.filter(function (i) {
          return String(i.user_id) === me && i.state !== 'needs_user' && (i.next_try_at || 0) <= Date.now();
        });
        var chain = Promise.resolve();
        var stopped = false;
        queue.forEach(function (item) {
          chain = chain.then(function () {
            if (stopped) return;
            item.state = 'sending';
            return update(item).then(function () { return send(item, s.csrf_token); })
              .then(function (r) { return handle(item, r); }, function () {
                item.state = 'waiting'; item.attempts += 1; item.next_try_at = backoff(item.attempts);
                item.last_error = 'network';
                stopped = true;  // no connection: the rest waits for the next trigger
                return update(item);
              })
              .then(function (result) { if (result === 'stop') stopped = true; });
          });
        });
        return chain;
      });
    }, function () { /* offline: nothing to do until the next trigger */ });
  }

  function drain() {
    if (draining) return Promise.resolve();
    draining = true;
    var run = navigator.locks
      ? navigator.locks.request('doorstep-outbox', { ifAvailable: true }, function (lock) {
          return lock ? drainLocked() : null;  // another tab is already sending
        })
      : drainLocked();
    return Promise.resolve(run).catch(function () {}).then(function () { draining = false; render(); });
  }

  // The badge on every page: how many of my visits are still on this phone.
  function render() {
    return Outbox.mine().then(function (items) {
      var badge = document.querySelector('.outbox-badge');
      if (badge) {
        badge.hidden = items.length === 0;
        var count = badge.querySelector('.outbox-count');
        if (count) count.textContent = String(items.length);
        badge.dataset.pending = String(items.length);
        badge.classList.toggle('needs-user', items.some(function (i) { return i.state !== 'waiting' && i.state !== 'sending'; }));
      }
      document.dispatchEvent(new CustomEvent('outbox:changed', { detail: items }));
      return items;
    }).catch(function () {});
  }

  if (channel) channel.onmessage = function () { render(); };
  window.addEventListener('online', drain);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) drain(); });
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener('message', function (e) {
      if (e.data && e.data.type === 'drain') drain();
    });
  }
  setInterval(function () {
    Outbox.mine().then(function (items) { if (items.length) drain(); });
  }, 30000);
  render().then(function (items) { if (items && items.length) drain(); });
})();

// Before signing out, say how many visits stay on this phone.
(function () {
  'use strict';
  var warning = document.querySelector('.outbox-warning');
  if (!warning || !window.Outbox) return;
  Outbox.mine().then(function (items) {
    if (!items.length) return;
    warning.textContent = warning.dataset.template.replace('{n}', items.length);
    warning.hidden = false;
  });
})();
