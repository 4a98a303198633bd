// Static-site start-up (the page's <html data-mode="site">): the service worker that makes the page cross-origin
// isolated on any static host and keeps the app for offline use, the engine worker as the pages' data source, the
// Train link, and drag-and-drop of run zips and corpus files anywhere on the page.
import { setSource } from '../source.ts';
import { h } from '../util.ts';
import { Engine, siteSource } from './source.ts';

export interface SiteInfo {
  engine: Engine;
  isolated: boolean;
  /** What runs the kernels, in words (shown on the Train page). */
  backend: string;
  threads: number;
}

let info: SiteInfo | null = null;

/** The site's engine and capabilities (after boot()). */
export function site(): SiteInfo {
  if (!info) throw new Error('the site is not booted');
  return info;
}

/** Whether this page is the static site (set by scripts/build-site.mjs in index.html). */
export function isSite(): boolean {
  return document.documentElement.dataset.mode === 'site';
}

const RELOADED = 'ts.coi-reload';

/**
 * Registers sw.js. Without isolation, and once the worker controls the page, reloads once so the worker's
 * COOP/COEP headers apply; a second time without isolation gives up (the page then runs on one thread).
 * Resolves false when the page is about to reload.
 */
async function serviceWorker(): Promise<boolean> {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return true;
  try {
    const reg = await navigator.serviceWorker.register('sw.js');
    if (window.crossOriginIsolated) {
      sessionStorage.removeItem(RELOADED);
      return true;
    }
    if (sessionStorage.getItem(RELOADED)) return true;
    if (!navigator.serviceWorker.controller) {
      await new Promise<void>((ok) => {
        navigator.serviceWorker.addEventListener('controllerchange', () => ok(), { once: true });
        // a first install: the worker claims the page on activate
        if (reg.active && navigator.serviceWorker.controller) ok();
        setTimeout(ok, 4000);
      });
    }
    sessionStorage.setItem(RELOADED, '1');
    location.reload();
    return false;
  } catch (e) {
    console.warn('service worker registration failed:', e);
    return true;
  }
}

/**
 * Reads dropped files into the engine: a run .zip, a .gguf, or a llama2.c .bin (with its tokenizer.bin) opens as the
 * model; a .txt/.json/.jsonl/.parquet becomes the corpus.
 */
export async function openFiles(files: File[]): Promise<string> {
  const { engine } = site();
  if (files.some((f) => /\.(gguf|bin)$/i.test(f.name))) {
    const parts = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    const s = await engine.call<{ id: string; params: number }>('importModel', { files: parts }, parts.map((p) => p.bytes.buffer));
    return `opened ${files.map((f) => f.name).join(' + ')}: ${s.params.toLocaleString('en-US')} parameters; sample it on the Playground`;
  }
  return openFile(files[0]!);
}

/** Reads one file into the engine: a run .zip opens as the model; .txt/.jsonl/.parquet become the corpus. */
export async function openFile(file: File): Promise<string> {
  const name = file.name;
  const lower = name.toLowerCase();
  const { engine } = site();
  if (lower.endsWith('.zip')) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const s = await engine.call<{ id: string; params: number }>('importZip', { name, bytes }, [bytes.buffer]);
    return `opened ${name}: ${s.id}, ${s.params.toLocaleString('en-US')} parameters; sample it on the Playground`;
  }
  const { readCorpusFile } = await import('./corpus.ts');
  const docs = await readCorpusFile(file, () => {});
  const c = await engine.call<{ docs: number; chars: number }>('corpus', { kind: 'docs', name, docs });
  return `corpus ${name}: ${c.docs.toLocaleString('en-US')} stories, ${(c.chars / 1e6).toFixed(2)} M characters; start a run on the Train page`;
}

function dropZone(): void {
  const note = h('div', { class: 'drop-note', role: 'status', 'aria-live': 'polite', 'data-role': 'drop-status', hidden: true });
  document.body.append(note);
  window.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('dragging');
  });
  window.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    const files = [...(e.dataTransfer?.files ?? [])];
    if (!files.length) return;
    note.hidden = false;
    note.textContent = `reading ${files.map((f) => f.name).join(', ')}…`;
    openFiles(files).then((t) => (note.textContent = t), (err: Error) => (note.textContent = err.message));
  });
}

/** Boots the site; resolves false when the page reloads itself (for the service worker), true when ready. */
export async function boot(): Promise<boolean> {
  if (!(await serviceWorker())) return false;
  const engine = new Engine(new URL('engine.js', location.href));
  const hello = await engine.call<{ name: string; threads: number; isolated: boolean; note: string }>('hello');
  info = { engine, isolated: window.crossOriginIsolated, backend: hello.note, threads: hello.threads };
  document.documentElement.dataset.isolated = String(window.crossOriginIsolated);
  document.documentElement.dataset.threads = String(hello.threads);
  setSource(siteSource(engine));
  const nav = document.getElementById('nav')!;
  nav.prepend(h('a', { href: '#/train' }, 'Train'));
  // the server-only pages have nothing to show in the page
  for (const a of nav.querySelectorAll('a')) if (a.getAttribute('href') === '#/evals' || a.getAttribute('href') === '#/data') a.remove();
  if (!window.crossOriginIsolated) {
    document.querySelector('header')!.after(h('p', { class: 'banner', role: 'note', 'data-role': 'isolation' }, `This page is not cross-origin isolated (the service worker could not add the headers here), so training runs on one thread: ${hello.note}.`));
  }
  dropZone();
  await engine.call('restore').catch((e: Error) => console.warn('restoring the saved run failed:', e.message));
  return true;
}
