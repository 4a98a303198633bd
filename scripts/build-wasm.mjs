// Compiles the AssemblyScript kernels in assembly/ to build/*.wasm (a relaxed-SIMD and a plain-SIMD build).
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'assembly', 'kernels.ts');
if (!existsSync(entry)) {
  console.log('build-wasm: no assembly/kernels.ts yet, nothing to build');
  process.exit(0);
}
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
if (!existsSync(asc)) {
  console.error('build-wasm: assemblyscript is not installed; run `npm install` first');
  process.exit(1);
}
mkdirSync(join(root, 'build'), { recursive: true });

// Skip the build when every output is newer than every source.
const sources = readdirSync(join(root, 'assembly')).map((f) => join(root, 'assembly', f));
const newestSource = Math.max(...sources.map((f) => statSync(f).mtimeMs), statSync(import.meta.filename ?? fileURLToPath(import.meta.url)).mtimeMs);
const variants = [
  { name: 'kernels-relaxed', flags: ['--enable', 'simd', '--enable', 'threads', '--enable', 'relaxed-simd', '--use', 'RELAXED=1'] },
  { name: 'kernels-simd', flags: ['--enable', 'simd', '--enable', 'threads', '--use', 'RELAXED=0'] },
];
// The two variants compile in parallel (asc is single-threaded).
const jobs = variants.map((v) => {
  const out = join(root, 'build', `${v.name}.wasm`);
  if (existsSync(out) && statSync(out).mtimeMs > newestSource && !process.argv.includes('--force')) return Promise.resolve(0);
  // `--enable threads` is required by --sharedMemory; the kernels themselves use no atomics
  const args = [asc, entry, '-O3', '--noAssert', '--runtime', 'stub', '--importMemory', '--sharedMemory',
    '--initialMemory', '1', '--maximumMemory', '65536', '--outFile', out, ...v.flags];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('exit', (code) => {
      if (code === 0) console.log(`build-wasm: wrote build/${v.name}.wasm`);
      else console.error(`build-wasm: asc failed for ${v.name}`);
      resolve(code ?? 1);
    });
  });
});
const codes = await Promise.all(jobs);
const failed = codes.find((c) => c !== 0);
if (failed !== undefined) process.exit(failed);
