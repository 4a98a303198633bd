// Regenerates the golden fixtures from the reference backend: `npx tsx test/engine/make-golden.ts`. Run it only when
// a change to the model or kernels is intended to change results (and bump GOLDEN_VERSION if the procedure changed).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { writeFileAtomicSync } from '../../src/util/atomic.ts';
import { runGolden } from './golden-setup.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
for (const arch of ['gpt-neo', 'llama'] as const) {
  const g = runGolden(arch, createRefBackend());
  const path = join(dir, `golden-${arch}.json`);
  writeFileAtomicSync(path, JSON.stringify(g) + '\n');
  console.log(`wrote ${path}: loss ${g.loss}, train losses ${g.trainLosses.join(' ')}`);
}
