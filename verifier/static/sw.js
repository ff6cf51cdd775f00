// Service worker of the public verifier. It keeps the home page, the
// offline page, the page script and the offline bundle (trusted issuers,
// their keys, status lists, texts), so that a scanned link
// `/v/{token}#{compact}` (or `/V/...`, as QR codes write it) can be checked with no connection. Pages and the
// bundle always come from the network first; the kept copies are used only
// when the network fails.

const CACHE = 'verifier-offline-v2';
const KEPT = ['/', '/offline', '/static/verifier.js', '/offline/bundle.json'];
// A browser without BarcodeDetector scans with our copy of jsQR, which must
// then be kept too (about 250 KB).
if (!('BarcodeDetector' in self)) KEPT.push('/static/vendor/jsQR.js');

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(KEPT))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

/** Fetches `request` and keeps a copy of a successful response under `key`. */
async function fetchAndKeep(request, key) {
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(CACHE);
    await cache.put(key, response.clone());
  }
  return response;
}

async function fromCache(key) {
  const kept = await caches.match(key);
  if (kept) return kept;
  return new Response('', { status: 504, statusText: 'offline and not kept' });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;

  if (request.mode === 'navigate') {
    // A verification link opened offline gets the offline page, whose
    // script reads the compact form from the fragment.
    const fallback = /^\/[vV]\//.test(url.pathname) ? '/offline' : '/';
    event.respondWith(fetch(request).catch(() => fromCache(fallback)));
    return;
  }
  if (url.pathname === '/offline/bundle.json' || url.pathname === '/static/verifier.js') {
    event.respondWith(fetchAndKeep(request, url.pathname).catch(() => fromCache(url.pathname)));
    return;
  }
  if (url.pathname.startsWith('/static/vendor/')) {
    event.respondWith(caches.match(url.pathname).then((kept) => kept ?? fetchAndKeep(request, url.pathname)));
  }
});
