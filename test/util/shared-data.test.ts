// The shared-data helper: ../shared/data resolved from the repository root (not the current folder), the
// TINYSTORIES_SHARED_DATA override, recognizable skip reasons, and the CI mode that turns a data-backed skip into a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT, SHARED_SKIP_PREFIX } from '../helpers/shared-data.ts';

/** Runs a snippet against the helper in a fresh process with the given environment and working folder. */
function probe(code: string, env: Record<string, string | undefined>, cwd: string): { code: number | null; stdout: string; stderr: string } {
  const helper = join(REPO_ROOT, 'test', 'helpers', 'shared-data.ts');
  const script = `import * as h from ${JSON.stringify(helper)};\n${code}`;
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v;
  // resolved here, so the child can run from any folder (a bare `--import tsx` resolves from its working directory)
  const tsx = import.meta.resolve('tsx');
  const r = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { cwd, env: childEnv, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('without an override, the shared data is ../shared/data from the repository root, whatever the current folder', () => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'ts-shared-'));
  try {
    const r = probe('console.log(h.sharedData("gsm8k"))', { TINYSTORIES_SHARED_DATA: undefined }, elsewhere);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), resolve(REPO_ROOT, '..', 'shared', 'data', 'gsm8k'));
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
});

test('TINYSTORIES_SHARED_DATA overrides the folder; present files do not skip, absent ones skip with a recognizable reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-shared-'));
  try {
    mkdirSync(join(dir, 'gsm8k'));
    writeFileSync(join(dir, 'gsm8k', 'test.jsonl'), '{}\n');
    const r = probe(
      'console.log(JSON.stringify([h.sharedSkip(["gsm8k", "test.jsonl"]), h.sharedSkip("gsm8k", "tokenizer"), h.hasSharedData("tokenizer")]))',
      { TINYSTORIES_SHARED_DATA: dir, TINYSTORIES_REQUIRE_SHARED_DATA: undefined },
      REPO_ROOT,
    );
    assert.equal(r.code, 0, r.stderr);
    const [present, partly, has] = JSON.parse(r.stdout) as [string | false, string | false, boolean];
    assert.equal(present, false);
    assert.equal(partly, `${SHARED_SKIP_PREFIX} ${join(dir, 'tokenizer')}`);
    assert.equal(has, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with TINYSTORIES_REQUIRE_SHARED_DATA=1 (as .ci/run sets when ../shared/data exists) an absent file fails instead of skipping', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-shared-'));
  try {
    const r = probe('h.sharedSkip("gsm8k")', { TINYSTORIES_SHARED_DATA: dir, TINYSTORIES_REQUIRE_SHARED_DATA: '1' }, REPO_ROOT);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TINYSTORIES_REQUIRE_SHARED_DATA=1 but .*gsm8k is absent/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('.ci/run requires the shared data whenever ../shared/data exists', async () => {
  const { readFileSync } = await import('node:fs');
  const ci = readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8');
  assert.match(ci, /TINYSTORIES_REQUIRE_SHARED_DATA=1/);
});
