// Registers the wallet's service worker, which keeps opened pages
// readable offline (see service-worker.js).
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/service-worker.js').catch((error) => {
    console.warn('offline copies are unavailable:', error);
  });
}
