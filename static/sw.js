// Doorstep service worker: caches the shell and the pages a housekeeper opened, so
// the route list, unit cards and the visit form open without signal. It never
// touches POSTs: queued visits live in IndexedDB and are sent by the page (outbox.js).
'use strict';
const VERSION = '__VERSION__';
const SHELL = __SHELL__;
const SHELL_CACHE = `shell-${VERSION}`;
const PAGES_CACHE = `pages-${VERSION}`;
const PARTIALS_CACHE = `partials-${VERSION}`;
const CURRENT = [SHELL_CACHE, PAGES_CACHE, PARTIALS_CACHE];
const NETWORK_TIMEOUT_MS = 4000;  // a stairwell link can stay up and move no bytes

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    // Carry the opened pages over to the new version, then drop old caches.
    const names = await caches.keys();
    for (const name of names) {
      if (CURRENT.includes(name)) continue;
      const target = name.startsWith('pages-') ? PAGES_CACHE : name.startsWith('partials-') ? PARTIALS_CACHE : null;
      if (target) {
        const from = await caches.open(name);
        const to = await caches.open(target);
        for (const request of await from.keys()) {
          const response = await from.match(request);
          if (response && !(await to.match(request))) await to.put(request, response);
        }
      }
      await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// The same rule as fieldapp/htmx.py: a fragment only for a targeted htmx request.
function isPartial(headers) {
  return headers.get('HX-Request') === 'true' && !headers.get('HX-Boosted') &&
    !headers.get('HX-History-Restore-Request') && (headers.get('HX-Request-Type') || 'partial') === 'partial';
}

// Cache Storage keeps one entry per URL whatever Vary says, so pages and fragments
// get separate caches and keys (OFFLINE.md §1.2).
function cacheKey(request) {
  const url = new URL(request.url);
  if (!isPartial(request.headers)) return { cache: PAGES_CACHE, key: url.pathname + url.search };
  const sep = url.search ? '&' : '?';
  return { cache: PARTIALS_CACHE, key: `${url.pathname}${url.search}${sep}__t=${request.headers.get('HX-Target') || ''}` };
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then((r) => { clearTimeout(timer); resolve(r); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

async function markFromCache(response) {
  // The page shows "offline — shown as of HH:MM" when its body carries this flag.
  const text = await response.text();
  return new Response(text.replace('<body', '<body data-from-cache'), {
    status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' },
  });
}

async function networkFirst(request) {
  const { cache, key } = cacheKey(request);
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    const type = response.headers.get('Content-Type') || '';
    if (response.ok && !response.redirected && type.startsWith('text/html')) {
      const store = await caches.open(cache);
      await store.put(key, response.clone());
    }
    return response;
  } catch (err) {
    const cached = await (await caches.open(cache)).match(key, { ignoreVary: true });
    if (cached) return cache === PAGES_CACHE ? markFromCache(cached) : cached;
    if (cache === PARTIALS_CACHE) {
      return new Response('<p class="notice" role="status">offline</p>', {
        status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' },
      });
    }
    return (await caches.open(SHELL_CACHE)).match('/offline');
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/static/')) {
    // Versioned URLs never change content: cache first, and keep what was fetched.
    event.respondWith(caches.match(request, { ignoreVary: true }).then((hit) => hit ||
      fetch(request).then((response) => {
        if (response.ok) { const copy = response.clone(); caches.open(SHELL_CACHE).then((c) => c.put(request, copy)); }
        return response;
      })));
    return;
  }
  if (url.pathname.startsWith('/api/') || url.pathname === '/sw.js' || url.pathname.startsWith('/photos/')) return;
  const accept = request.headers.get('Accept') || '';
  if (request.mode === 'navigate' || accept.includes('text/html') || request.headers.get('HX-Request')) {
    event.respondWith(networkFirst(request));
  }
});

self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type === 'prefetch' && Array.isArray(data.urls)) {
    // The next units of the route list, so their cards open in the stairwell.
    event.waitUntil((async () => {
      const store = await caches.open(PAGES_CACHE);
      for (const u of data.urls.slice(0, 20)) {
        const path = new URL(u, self.location.origin);
        if (path.origin !== self.location.origin || await store.match(path.pathname + path.search)) continue;
        try {
          const response = await fetch(path, { credentials: 'same-origin' });
          if (response.ok && !response.redirected) await store.put(path.pathname + path.search, response);
        } catch (err) { return; }
      }
    })());
  }
  if (data.type === 'forget-pages') {
    // Signing out: pages hold personal data. The outbox (IndexedDB) is never touched.
    event.waitUntil(Promise.all([caches.delete(PAGES_CACHE), caches.delete(PARTIALS_CACHE)]));
  }
});

self.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') return;
  event.waitUntil(self.clients.matchAll({ includeUncontrolled: true }).then((clients) => {
    clients.forEach((c) => c.postMessage({ type: 'drain' }));
  }));
});
