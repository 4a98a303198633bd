// Runs every test/**/*.test.ts file with node's test runner through tsx; fails if no test file is found
// (node --test exits 0 on an unmatched glob, which would hide a broken suite).
//
//   npm test                      the whole suite (what CI runs)
//   npm test -- --fast            the fast tier for development: leaves out the files listed in SLOW below
//   npm test -- tokenizer data/   only the files whose path contains one of these words
//
// A test file that takes more than a few seconds on two cores (it trains a model, starts Pyodide or a browser,
// spawns the CLI many times) belongs in SLOW with the reason; the fast tier must stay under 60 s on two cores.
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Slow test files or folders (paths relative to the repository, `/`-separated), with why they are slow. */
export const SLOW = {
  'test/sandbox/': 'Pyodide workers (cold start 2-4 s each), programs that run into time limits, a loaded-CPU check',
  'test/gsm/cli.test.ts': 'trains a model, runs the sandbox, spawns the CLI',
  'test/gsm/filter.test.ts': 'Pyodide sandbox',
  'test/gsm/harness.test.ts': 'Pyodide sandbox, 38 problems',
  'test/gsm/verifier.test.ts': 'trains a verifier',
  'test/web/': 'headless Chromium and a built site',
  'test/engine/wasm-browser.test.ts': 'headless Chromium',
  'test/engine/wasm-bench.test.ts': 'timed benchmark runs',
  'test/engine/webgpu-': 'WebGPU on a CPU Vulkan driver (lavapipe)',
  'test/eval/report-render.test.ts': 'headless Chromium',
  'test/eval/gpt-eval.test.ts': 'trains runs, generates and judges, spawns the CLI',
  'test/eval/metrics.test.ts': 'trains runs, spawns the CLI',
  'test/eval/compare-metrics.test.ts': 'spawns the CLI',
  'test/server/api.test.ts': 'trains a run and serves it',
  'test/train/': 'trains models (the schedule, settings and plan unit tests are fast: see FAST_EXCEPTIONS)',
  'test/shards/shards.test.ts': 'tokenizes corpora with worker threads',
  'test/interop/convert.test.ts': 'trains and converts models, spawns the CLI, runs PyTorch (python3-torch) for a fixture',
  'test/interop/torch-pickle.test.ts': 'runs PyTorch (python3-torch, ~3 s CPU to import) to write fixtures; 50,257-vocab logits',
  'test/interop/export-cli.test.ts': 'spawns the CLI',
  'test/inspect/': 'spawns the CLI on trained fixtures',
  'test/sample/cli.test.ts': 'trains a run, spawns the CLI',
  'test/tokenizer/cli.test.ts': 'trains tokenizers through the CLI',
  'test/tokenizer/hf-compat.test.ts': 'trains 4,096 and 10,000-token vocabularies on the shared sample',
  'test/tokenizer/topk-run.test.ts': 'trains a run with a top-K tokenizer',
  'test/synth/kill.test.ts': 'kill -9 and resume of generation runs',
  'test/synth/cli.test.ts': 'spawns the CLI',
  'test/data/parquet-duckdb.test.ts': 'loads DuckDB and writes parquet files',
  'test/data/stats-cli.test.ts': 'spawns the CLI',
  'test/interop/torch-pickle.test.ts': 'float64 forwards of real PyTorch checkpoints',
  'test/interop/gguf.test.ts': 'loads llama.cpp (node-llama-cpp) and decodes with it',
  'test/interop/llama2c-real.test.ts': "encodes with llama2.c's 32,000-piece tokenizer, decodes stories260K",
  'test/engine/wasm-model.test.ts': 'trains on the WASM backend against the reference',
  'test/sample/golden.test.ts': 'a greedy story from the golden model on the reference backend',
  'test/eval/window.test.ts': 'trains a run and scores it through the CLI',
  'test/eval/memorization.test.ts': 'indexes the shared TinyStories sample',
  'test/gsm/generate.test.ts': 'generation runs against a mock LLM, with resumes',
};
/** Files inside a SLOW folder that are fast anyway. */
export const FAST_EXCEPTIONS = ['test/train/schedule.test.ts', 'test/train/settings.test.ts', 'test/train/plan.test.ts', 'test/train/bpb.test.ts'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Whether a test file (path relative to the repository) is in the slow tier. */
export function isSlow(rel) {
  const p = rel.split(sep).join('/');
  if (FAST_EXCEPTIONS.includes(p)) return false;
  return Object.keys(SLOW).some((s) => p.startsWith(s));
}

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const fast = args.includes('--fast');
  const filter = args.filter((a) => a !== '--fast');
  let files = walk(join(root, 'test')).sort();
  if (filter.length) files = files.filter((f) => filter.some((s) => f.includes(s)));
  const all = files.length;
  if (fast) files = files.filter((f) => !isSlow(relative(root, f)));
  if (files.length === 0) {
    console.error('run-tests: no test files found under test/' + (filter.length ? ` matching ${filter.join(' ')}` : '') + (fast ? ' in the fast tier' : ''));
    process.exit(1);
  }
  console.log(`run-tests: ${files.length} test files` + (fast ? ` (fast tier: ${all - files.length} slow files left out; \`npm test\` runs them all)` : ''));
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...(fast ? ['--test-concurrency=2'] : []), ...files.map((f) => relative(root, f))], {
    cwd: root,
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}
