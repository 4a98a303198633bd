// Test helpers: PyTorch-written fixtures (generated at run time by torch_fixtures.py when Debian's python3-torch is
// present) and a tiny byte-level tokenizer.json.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToUnicode } from '../../src/tokenizer/pretokenize.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';

let fixtures: { dir: string } | { skip: string } | undefined;

/**
 * Runs torch_fixtures.py once per process into a temp dir (only the `names` given, default all); a skip reason when
 * PyTorch is absent or the script fails.
 */
export function torchFixtures(names: string[] = []): { dir: string } | { skip: string } {
  if (fixtures) return fixtures;
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    fixtures = { skip: `PyTorch is not importable by ${PYTHON} (apt-get install python3-torch): ${(probe.error?.message ?? probe.stderr).trim().split('\n').pop()}` };
    return fixtures;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ts-torch-fx-'));
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE; // see ../shared/MEASURED.md: Debian's torch misbehaves with these set
  delete env.OPENBLAS_L2_SIZE;
  const run = spawnSync(PYTHON, [join(here, 'torch_fixtures.py'), dir, ...names], { encoding: 'utf8', env });
  fixtures = run.status === 0 ? { dir } : { skip: `torch_fixtures.py failed: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}` };
  return fixtures;
}

/** The float64 logits the fixture script computed, by compared position. */
export function referenceLogits(dir: string): { rows: number[]; ids: number[]; logits: Float64Array } {
  const b = readFileSync(join(dir, 'logits.f64'));
  const logits = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  return { rows: JSON.parse(readFileSync(join(dir, 'rows.json'), 'utf8')), ids: JSON.parse(readFileSync(join(dir, 'ids.json'), 'utf8')), logits };
}

/** A byte-level tokenizer.json with 256 byte tokens and `<|endoftext|>` = 256 (fits any vocab of 257 or more). */
export function writeByteTokenizer(path: string): void {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((ch, i) => (vocab[ch] = i));
  const json = {
    version: '1.0',
    added_tokens: [{ id: 256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    // the fields as transformers' GPT2Converter writes them (an empty prefix/suffix means none)
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: [] },
  };
  writeFileSync(path, JSON.stringify(json));
}
