// Service worker for the check-in pages (served at /sessions/checkin-sw.js, scope /sessions/).
// It keeps the check-in page and its files on the device so the page opens without a network;
// everything else (other pages, /api/ calls, Socket.IO) passes straight to the network.

const VERSION = "checkin-v2";
const ASSETS = [
  "/static/css/app.css",
  "/static/css/checkin.css",
  "/static/js/checkin.js",
  "/static/js/api.js",
  "/static/js/fold.js",
  "/static/js/rank.js",
  "/static/js/live.js",
  "/static/js/offline-queue.js",
  "/static/js/scanner.js",
  "/static/vendor/socket.io-4.8.1.min.js",
  "/static/vendor/jsQR-1.4.0.js",
];
const CHECKIN_PAGE = /^\/sessions\/\d+\/checkin\/\d+\/?$/;
// The installed app's start: the server sends it on to the live session's check-in page;
// without a network it opens the check-in page used last.
const START_PAGE = /^\/sessions\/checkin\/?$/;
const LAST_PAGE = "/sessions/checkin#last";
// Static files come as /static/v/<version>/<file>; they are kept under /static/<file>.
const VERSIONED = /^\/static\/v\/[0-9a-f]+\//;
const canonical = (pathname) => pathname.replace(VERSIONED, "/static/");
const NETWORK_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(VERSION)
      .then((cache) => cache.addAll(ASSETS))
      .catch(() => undefined)
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("checkin-") && k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

// The page: the network first (fresh roster, fresh CSRF token), the kept copy when it fails.
async function page(request) {
  const cache = await caches.open(VERSION);
  const key = new URL(request.url);
  key.search = "";
  try {
    const response = await withTimeout(fetch(request), NETWORK_WAIT_MS);
    if (response.ok && !response.redirected && response.type === "basic") {
      cache.put(key.href, response.clone());
      cache.put(new URL(LAST_PAGE, self.location.origin).href, response.clone());
    }
    return response;
  } catch (err) {
    const kept = await cache.match(key.href);
    if (kept) return kept;
    throw err;
  }
}

// Static files: the network first too (a new page never runs with old scripts), the kept
// copy when the network fails or is slow.
async function asset(request) {
  const cache = await caches.open(VERSION);
  const key = new URL(request.url);
  key.pathname = canonical(key.pathname);
  key.search = "";
  try {
    const response = await withTimeout(fetch(request), NETWORK_WAIT_MS);
    if (response.ok && response.type === "basic") cache.put(key.href, response.clone());
    return response;
  } catch (err) {
    const kept = await cache.match(key.href);
    if (kept) return kept;
    throw err;
  }
}

// A page asks to be kept (its first load happened before this worker controlled it).
async function keep(href) {
  const url = new URL(href, self.location.origin);
  if (url.origin !== self.location.origin || !CHECKIN_PAGE.test(url.pathname)) return;
  url.search = "";
  const response = await fetch(url.href, { credentials: "same-origin", cache: "no-store" });
  if (response.ok && !response.redirected) {
    const cache = await caches.open(VERSION);
    await cache.put(new URL(LAST_PAGE, self.location.origin).href, response.clone());
    await cache.put(url.href, response);
  }
}

async function start(request) {
  try {
    return await withTimeout(fetch(request), NETWORK_WAIT_MS);
  } catch (err) {
    const cache = await caches.open(VERSION);
    const kept = await cache.match(new URL(LAST_PAGE, self.location.origin).href);
    if (kept) return kept;
    throw err;
  }
}

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "keep-page" && typeof event.data.url === "string") {
    event.waitUntil(keep(event.data.url).catch(() => undefined));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && CHECKIN_PAGE.test(url.pathname)) {
    event.respondWith(page(request));
  } else if (request.mode === "navigate" && START_PAGE.test(url.pathname)) {
    event.respondWith(start(request));
  } else if (ASSETS.includes(canonical(url.pathname))) {
    event.respondWith(asset(request));
  }
});
