// Builds the static site into site/: the dashboard (web/) in its in-page mode, the engine Web Worker, the kernel
// worker and WASM kernels, the embedded corpus, and a service worker listing every file (offline + COOP/COEP).
// Run: npm run build:site  (then serve site/ with any static server, e.g. `npx serve site`).
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SITE_OUT = join(root, 'site');

/**
 * esbuild plugin: Node built-ins resolve to a stub whose functions throw when called, and the project's own modules
 * are marked side-effect free, so the browser bundles keep only the Node-free code paths they use (a module's file
 * I/O wrapper is dropped when nothing calls it). Reaching a stub at run time throws "…is not available in the browser".
 */
const nodeStub = {
  name: 'node-stub',
  setup(build) {
    // src/inspect/word-class.ts loads compromise through createRequire (fast on Node): here a static import of it
    build.onResolve({ filter: /^node:module$/ }, () => ({ path: 'node:module', namespace: 'node-module-shim' }));
    build.onLoad({ filter: /.*/, namespace: 'node-module-shim' }, () => ({
      contents: "import nlp from 'compromise'; export function createRequire() { return (id) => { if (id === 'compromise') return nlp; throw new Error('require(' + id + ') is not available in the browser'); }; }",
      loader: 'js',
      resolveDir: root,
    }));
    // 'webgpu' is Dawn for Node (a native addon, reached only by webgpu/node.ts): the page has navigator.gpu
    build.onResolve({ filter: /^node:|^(fs|path|os|url|crypto|zlib|module|worker_threads|fs\/promises|webgpu)$/ }, (a) => ({ path: a.path, namespace: 'node-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (a) => ({
      contents: `module.exports = new Proxy({}, { get: (_, k) => k === '__esModule' ? false : function () { throw new Error(${JSON.stringify(a.path)} + '.' + String(k) + ' is not available in the browser'); } });`,
      loader: 'js',
    }));
    build.onResolve({ filter: /\.ts$/ }, (a) => {
      if (!a.resolveDir.startsWith(join(root, 'src'))) return undefined;
      return { path: join(a.resolveDir, a.path), sideEffects: false };
    });
  },
};

function listFiles(dir, base = dir) {
  const out = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, base));
    else out.push(relative(base, p).split('\\').join('/'));
  }
  return out.sort();
}

/** Builds site/ (minified); resolves with the list of files and the bundle sizes. */
export async function buildSite({ outdir = SITE_OUT, quiet = false, minify = true } = {}) {
  const esbuild = await import('esbuild');
  const t0 = performance.now();
  for (const f of ['build/kernels-relaxed.wasm', 'build/kernels-simd.wasm']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first (it compiles the WASM kernels)`);
  }
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(join(outdir, 'corpus'), { recursive: true });
  const common = {
    bundle: true, format: 'esm', target: ['es2022'], outdir, minify, sourcemap: false, logLevel: quiet ? 'silent' : 'warning', platform: 'browser',
    plugins: [nodeStub], define: { 'process.env.NODE_ENV': '"production"' }, loader: { '.css': 'css' },
  };
  // code splitting: what only some pages need (the parquet reader, the neuron scan with its POS tagger) loads on use
  await esbuild.build({ ...common, splitting: true, chunkNames: 'chunks/[name]-[hash]', entryPoints: { app: join(root, 'web', 'main.ts'), engine: join(root, 'web', 'site', 'engine-worker.ts') } });
  copyFileSync(join(root, 'src', 'engine', 'wasm', 'worker.mjs'), join(outdir, 'kernel-worker.mjs'));
  copyFileSync(join(root, 'build', 'kernels-relaxed.wasm'), join(outdir, 'kernels-relaxed.wasm'));
  copyFileSync(join(root, 'build', 'kernels-simd.wasm'), join(outdir, 'kernels-simd.wasm'));
  // the embedded corpus: builtin:mini's TinyStories .txt files, one story list
  const corpusDir = join(root, 'src', 'data', 'corpus');
  const texts = readdirSync(corpusDir).filter((n) => n.endsWith('.txt')).sort().map((n) => readFileSync(join(corpusDir, n), 'utf8').trim());
  writeFileSync(join(outdir, 'corpus', 'mini.txt'), texts.join('\n<|endoftext|>\n') + '\n');
  const html = readFileSync(join(root, 'web', 'index.html'), 'utf8')
    .replace('<html lang="en">', '<html lang="en" data-mode="site">')
    .replace('<title>tinystories dashboard</title>', '<title>tinystories in the browser</title>')
    .replace('<meta name="viewport"', '<meta name="description" content="Train, sample and inspect a tiny story model in this tab: no install, no server.">\n<meta name="viewport"');
  writeFileSync(join(outdir, 'index.html'), html);
  // the service worker last: it lists (and its version hashes) every other file
  const files = listFiles(outdir);
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(readFileSync(join(outdir, f)));
  const version = hash.digest('hex').slice(0, 16);
  await esbuild.build({
    ...common, plugins: [], entryPoints: { sw: join(root, 'web', 'site', 'sw.ts') }, format: 'iife',
    define: { __VERSION__: JSON.stringify(version), __FILES__: JSON.stringify(files) },
  });
  const all = listFiles(outdir);
  const sizes = Object.fromEntries(all.map((f) => [f, statSync(join(outdir, f)).size]));
  if (!quiet) console.log(`build-site: ${outdir} (${all.length} files, version ${version}) in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return { outdir, files: all, sizes, version };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildSite();
