// `npm run bench`: runs every benchmark in bench/ one after another (each prints its figures and its peer, and
// appends a JSON line to bench/results/). Pass names to run a subset, `--quick` for smoke runs:
//   npm run bench -- step matmul        npm run bench -- --quick
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The long ones run only when named explicitly: the learning check (30 minutes per preset), the recipe sweep
// (hours), the budget figures (3 + 10 + 30 minutes per contender) and the PyTorch peer (~15 minutes, needs python3-torch).
const explicitOnly = new Set(['train-learning', 'recipe-sweep', 'peer-pytorch', 'budget-figures']);
const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--'));
const flags = args.filter((a) => a.startsWith('--'));
const all = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('-common.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
const chosen = names.length ? all.filter((n) => names.includes(n)) : all.filter((n) => !explicitOnly.has(n));
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length) {
  console.error(`run-bench: no benchmark named ${unknown.join(', ')}; have: ${all.join(', ')}`);
  process.exit(1);
}
let failed = 0;
for (const name of chosen) {
  console.log(`\n### bench/${name}.ts ${flags.join(' ')}`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join('bench', `${name}.ts`), ...flags], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`run-bench: bench/${name}.ts exited with ${r.status}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
