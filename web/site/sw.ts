// The static site's service worker: answers same-origin requests from its cache (filled at install with every file
// of the build, so the site works offline after the first visit) or the network, and adds the headers that make the
// page cross-origin isolated (COOP same-origin + COEP require-corp, so SharedArrayBuffer and wasm threads work on
// static hosts that cannot set headers). scripts/build-site.mjs replaces __VERSION__ and __FILES__.
/// <reference lib="webworker" />
export {};

declare const self: ServiceWorkerGlobalScope;
declare const __VERSION__: string;
declare const __FILES__: string[];

const CACHE = `tinystories-site-${__VERSION__}`;

self.addEventListener('install', (e) => {
  e.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(__FILES__.map((f) => new Request(new URL(f, self.registration.scope), { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (e) => {
  e.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key.startsWith('tinystories-site-') && key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

/** The response with the isolation headers added (a new Response: fetched headers are immutable). */
function isolated(res: Response): Response {
  if (res.status === 0 || res.type === 'opaque') return res;
  const headers = new Headers(res.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

self.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  // other origins (the Hugging Face hub) go straight to the network: CORS responses pass COEP as they are
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (req.cache === 'only-if-cached' && req.mode !== 'same-origin') return;
  e.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      // navigations carry the hash route in the page, never in the request: index.html answers any of them
      const key = req.mode === 'navigate' ? new URL('index.html', self.registration.scope).href : url.origin + url.pathname;
      const hit = await cache.match(key);
      if (hit) return isolated(hit);
      try {
        return isolated(await fetch(req));
      } catch (err) {
        return new Response(`offline and not cached: ${url.pathname}`, { status: 503, headers: { 'content-type': 'text/plain' } });
      }
    })(),
  );
});
