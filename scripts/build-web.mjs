// Bundles the dashboard front end (web/) with esbuild into build/web/: index.html, app.js, app.css. No CDN at run time.
// Run: node scripts/build-web.mjs [--watch]. The server also calls buildWeb() when build/web is missing or stale.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_SRC = join(root, 'web');
export const WEB_OUT = join(root, 'build', 'web');

/** esbuild options: one ESM bundle (app.js + app.css with uPlot's styles) and source maps. */
function options(outdir, quiet, minify) {
  return {
    entryPoints: { app: join(WEB_SRC, 'main.ts') },
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    outdir,
    minify,
    sourcemap: true,
    logLevel: quiet ? 'silent' : 'warning',
    loader: { '.css': 'css' },
  };
}

/** Builds build/web (minified, with a source map); resolves with esbuild's result. */
export async function buildWeb({ outdir = WEB_OUT, quiet = false, minify = true } = {}) {
  const esbuild = await import('esbuild');
  mkdirSync(outdir, { recursive: true });
  const t0 = performance.now();
  const result = await esbuild.build(options(outdir, quiet, minify));
  // index.html last: the server treats its presence as "built"
  copyFileSync(join(WEB_SRC, 'index.html'), join(outdir, 'index.html'));
  if (!quiet) console.log(`build-web: ${outdir} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return result;
}

/** Rebuilds on every change under web/ (unminified) until the process ends. */
export async function watchWeb({ outdir = WEB_OUT } = {}) {
  const esbuild = await import('esbuild');
  mkdirSync(outdir, { recursive: true });
  copyFileSync(join(WEB_SRC, 'index.html'), join(outdir, 'index.html'));
  const ctx = await esbuild.context({ ...options(outdir, false, false), logLevel: 'info' });
  await ctx.watch();
  console.log(`build-web: watching ${WEB_SRC} → ${outdir} (Ctrl-C to stop)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--watch')) await watchWeb();
  else await buildWeb();
}
