// Service worker. The offline cache of the app shell and of assigned visits arrives with the
// shopper's fill page; until then it only takes control so that the app is installable.
self.addEventListener("install", function () {
  self.skipWaiting();
});
self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});
self.addEventListener("fetch", function () {
  // Network as usual.
});
