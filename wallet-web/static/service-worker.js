// The wallet's service worker. Pages and QR codes are fetched from the
// network first, so a visit online always shows the latest certificates.
// Each successful response is copied to the cache, and the copy is shown
// when the network fails. Signing out deletes the copies, because they
// contain the member's name and certificates.

const CACHE = 'wallet-pages-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

function cacheable(request) {
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return false;
  return (
    request.mode === 'navigate' ||
    url.pathname.endsWith('/qr.svg') ||
    url.pathname === '/manifest.webmanifest' ||
    url.pathname === '/icon.svg' ||
    url.pathname === '/app.js'
  );
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method === 'POST' && url.origin === self.location.origin && url.pathname === '/sign-out') {
    event.waitUntil(caches.delete(CACHE));
    return;
  }
  if (!cacheable(request)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        // Only whole pages of a signed-in member are kept, not the
        // redirects of a signed-out visit.
        if (response.ok && !response.redirected) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() => caches.match(request, { ignoreVary: true }).then((cached) => cached || Response.error())),
  );
});
