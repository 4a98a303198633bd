// Beginnings files (the paper's YAML form and JSON) and the judge's wording.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { JUDGE_TURN2, judgeTurn1, loadBeginnings, parseBeginnings } from '../../src/eval/prompts.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

const SHARED = sharedData('tinystories_eval') + '/';

test('YAML block scalars (|-, |, quoted, plain) and JSON arrays', () => {
  const yaml = '---\n- |-\n  Once upon a time, there was a cat.\n\n  The cat said "\n- |\n  Tom had a ball\n- "Quoted \\"one\\""\n- plain one\n';
  assert.deepEqual(parseBeginnings(yaml, 'x.yaml'), ['Once upon a time, there was a cat.\n\nThe cat said "', 'Tom had a ball\n', 'Quoted "one"', 'plain one']);
  assert.deepEqual(parseBeginnings('["a b", {"beginning": "c"}]', 'x.json'), ['a b', 'c']);
  assert.deepEqual(parseBeginnings('{"beginnings": ["z"]}', 'x.json'), ['z']);
});

test('bad files give one line naming the file and the line', () => {
  assert.throws(() => parseBeginnings('---\nfoo: bar\n', 'b.yaml'), /b\.yaml:2: expected a list item/);
  assert.throws(() => parseBeginnings('[1, 2]', 'b.json'), /b\.json: item 1 must be a string/);
  assert.throws(() => parseBeginnings('[]', 'e.json'), /no story beginnings/);
  assert.throws(() => loadBeginnings('/nonexistent/file.yaml'), /cannot read beginnings file/);
});

test("the two turns carry the paper's wording; the completion follows *** directly", () => {
  const t1 = judgeTurn1('She was so weak she could', ' not go. $& $1');
  assert.ok(t1.startsWith('the following exercise, the student is given a beginning of a story.'));
  assert.ok(t1.includes('She was so weak she could*** not go. $& $1\n\n'));
  assert.ok(t1.includes('Is it gramatically correct?'));
  assert.ok(JUDGE_TURN2.endsWith('A: 3 or under. B: 4-5. C: 6-7. D: 8-9. E: 10-12. F: 13-16.'));
});

test('the shared YAML of 44 beginnings parses to exactly the JSON copy', { skip: sharedSkip('tinystories_eval') }, () => {
  const fromYaml = loadBeginnings(SHARED + 'Evaluation prompts.yaml');
  const fromJson = JSON.parse(readFileSync(SHARED + 'evaluation_prompts.json', 'utf8')) as string[];
  assert.equal(fromYaml.length, 44);
  assert.deepEqual(fromYaml, fromJson);
  // and the wording file quotes our turn texts
  const md = readFileSync(SHARED + 'gpt_eval_prompt.md', 'utf8');
  assert.ok(md.includes(JUDGE_TURN2));
  assert.ok(md.includes(judgeTurn1('{beginning}', '{completion}')));
});

test('the hub copy of the beginnings (only when asked: --beginnings hf:...) downloads the file the paper published (mock hub on 127.0.0.1)', async () => {
  const { startMockHub } = await import('../data/mock-hub.ts');
  const { resolveSource } = await import('../../src/data/read.ts');
  const { HUB_BEGINNINGS } = await import('../../src/eval/prompts.ts');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const yaml = Buffer.from('---\n- |-\n  Once upon a time, there was a\n- |-\n  Tom said "\n');
  const hub = await startMockHub({ 'roneneldan/TinyStories/main/Evaluation prompts.yaml': { content: yaml, lfs: false } });
  const cache = mkdtempSync(join(tmpdir(), 'hub-cache-'));
  const saved = { e: process.env.TINYSTORIES_HF_ENDPOINT, c: process.env.TINYSTORIES_CACHE };
  process.env.TINYSTORIES_HF_ENDPOINT = hub.endpoint;
  process.env.TINYSTORIES_CACHE = cache;
  try {
    const path = await resolveSource(HUB_BEGINNINGS, { quiet: true });
    assert.deepEqual(loadBeginnings(path), ['Once upon a time, there was a', 'Tom said "']);
    assert.ok(hub.log.some((l) => /Evaluation(%20| )prompts\.yaml/.test(l.url)), JSON.stringify(hub.log));
  } finally {
    if (saved.e === undefined) delete process.env.TINYSTORIES_HF_ENDPOINT;
    else process.env.TINYSTORIES_HF_ENDPOINT = saved.e;
    if (saved.c === undefined) delete process.env.TINYSTORIES_CACHE;
    else process.env.TINYSTORIES_CACHE = saved.c;
    await hub.close();
    rmSync(cache, { recursive: true, force: true });
  }
});
