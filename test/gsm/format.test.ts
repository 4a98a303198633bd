// Pure pieces of the GSM pipeline: block parsing (malformed input included), the TinyGSM function form and its
// training rendering, completion cutting, answer normalization, pass@k / majority vote, and n-gram decontamination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cleanQuestion, parseProblemBlocks, parseSingleProgram, parseSingleQuestion } from '../../src/gsm/parse.ts';
import { cutCompletion, functionHeader, programFromCompletion, renderTinyGsm, toTinyGsmFunction } from '../../src/gsm/tinygsm.ts';
import { parseNumericString, normalizeValue, answersMatch } from '../../src/sandbox/normalize.ts';
import { majorityAnswer, passAtK } from '../../src/gsm/harness.ts';
import { NgramIndex, normalizeQuestion, ngramHashes } from '../../src/gsm/decontam.ts';
import { hasNumbers } from '../../src/gsm/filter.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

test('problem/program blocks: labels, fences, preamble, and malformed blocks with reasons', () => {
  const text = [
    'Here are your problems!\n\n**Problem 1:** Sam has 3 cats and 2 dogs. How many pets? <|endofquestion|>',
    '**Program 1:**\n```python\ncats = 3\ndogs = 2\nresult = cats + dogs\n```\n<|endofprogram|>',
    'Problem 2: A question without its marker.\nresult = 5 <|endofprogram|>',
    'Problem 3: Lee has 4 pens. <|endofquestion|> Program 3: pens = 4\nprint(pens) <|endofprogram|>',
    'Problem 4:  <|endofquestion|> Program 4: result = 1 <|endofprogram|>',
    'Problem 5: Kim runs 2 km a day for 7 days. How far? <|endofquestion|>\nProgram 5:\n    days = 7\n    result = 2 * days\n<|endofprogram|>',
    'Problem 6: Truncated question <|endofquestion|> Program 6: x = ',
  ].join('\n');
  const r = parseProblemBlocks(text, true);
  assert.deepEqual(r.problems.map((p) => p.question), ['Sam has 3 cats and 2 dogs. How many pets?', 'Kim runs 2 km a day for 7 days. How far?']);
  assert.equal(r.problems[0]!.program, 'cats = 3\ndogs = 2\nresult = cats + dogs');
  assert.deepEqual(r.rejected.map((x) => x.reason), ['no_question_marker', 'no_result_assignment', 'empty_question', 'truncated']);
  // without finish_reason=length, an unterminated but complete last block is kept
  const r2 = parseProblemBlocks('Problem 1: Jo has 2 hats and buys 3. How many? <|endofquestion|>\nProgram 1: result = 2 + 3');
  assert.equal(r2.problems.length, 1);
  assert.deepEqual(parseProblemBlocks('no markers at all, just prose').problems, []);
  assert.deepEqual(parseProblemBlocks('').problems, []);
  assert.equal(cleanQuestion('Question #7: What is 2+2?'), 'What is 2+2?');
  assert.equal(parseSingleQuestion('New problem: Mo has 3 marbles. <|endofquestion|> extra'), 'Mo has 3 marbles.');
  assert.equal(parseSingleProgram('Sure:\n```python\nx = 2\nresult = x * 3\n```\n<|endofprogram|>'), 'x = 2\nresult = x * 3');
});

test('TinyGSM function form, training rendering and completion cutting', () => {
  const f = toTinyGsmFunction('Sam has 3 cats.\nHow many "cats"?', '  cats = 3\n  result = cats\n');
  assert.equal(f, 'def simple_math_problem() -> int:\n    """\n    Sam has 3 cats.\n    How many "cats"?\n    """\n    cats = 3\n    result = cats\n    return result\n');
  assert.ok(toTinyGsmFunction('Q?', 'result = 1\nreturn result').endsWith('    result = 1\n    return result\n'));
  assert.equal(renderTinyGsm({ question: 'Q?', code: f }), f);
  assert.equal(renderTinyGsm({ question: 'Sam has 3 cats.\nHow many "cats"?', code: 'cats = 3\nresult = cats' }), f);
  assert.ok(functionHeader('He said """x""" \\o/').includes('\\"\\"\\"x\\"\\"\\" \\\\o/'));
  assert.equal(cutCompletion('    a = 1\n    result = a\n    return result\n\nprint(simple_math_problem())\n'), '    a = 1\n    result = a\n    return result\n');
  assert.equal(cutCompletion('    result = 2\n    return result<|endoftext|>def other(): pass'), '    result = 2\n    return result\n');
  assert.ok(programFromCompletion('Q?', '    result = 1\n    return result').startsWith('def simple_math_problem() -> int:\n    """\n    Q?\n    """\n    result = 1'));
});

test('answer normalization and tolerance', () => {
  assert.equal(parseNumericString('1,000'), 1000);
  assert.equal(parseNumericString(' $1,234.50 '), 1234.5);
  assert.equal(parseNumericString('-7'), -7);
  assert.equal(parseNumericString('15%'), 15);
  assert.equal(parseNumericString('12 dollars'), 12);
  assert.equal(parseNumericString('3 apples and 4 pears'), undefined);
  assert.equal(parseNumericString('twelve'), undefined);
  assert.equal(parseNumericString('1,00'), undefined);
  assert.equal(parseNumericString(''), undefined);
  assert.deepEqual(normalizeValue({ type: 'int', value: '18' }), { ok: true, value: 18 });
  assert.deepEqual(normalizeValue({ type: 'float', value: '18.0' }), { ok: true, value: 18 });
  assert.equal(normalizeValue({ type: 'bool', repr: 'True' }).ok, false);
  assert.equal(normalizeValue({ type: 'float', value: 'inf' }).ok, false);
  assert.equal(normalizeValue({ type: 'NoneType', repr: 'None' }).ok, false);
  assert.ok(answersMatch(18.000000001, 18));
  assert.ok(answersMatch(0.1 + 0.2, 0.3));
  assert.ok(!answersMatch(18.01, 18));
  assert.ok(answersMatch(1234567.5, 1234567.5000001));
});

test('pass@k (unbiased estimator) and majority vote', () => {
  assert.equal(passAtK(5, 0, 1), 0);
  assert.equal(passAtK(5, 5, 3), 1);
  assert.ok(Math.abs(passAtK(5, 2, 1) - 0.4) < 1e-12);
  assert.ok(Math.abs(passAtK(4, 1, 2) - 0.5) < 1e-12); // 1 - C(3,2)/C(4,2) = 1 - 3/6
  assert.equal(majorityAnswer([3, 5, 3.0000001, null, 5, 3]), 3);
  assert.equal(majorityAnswer([null, null]), null);
  assert.equal(majorityAnswer([7, 8]), 7);
});

test('decontamination: normalization and 13-/8-gram overlap', () => {
  assert.deepEqual(normalizeQuestion('Janet’s ducks lay 1,600 eggs.'), ['janets', 'ducks', 'lay', '1600', 'eggs']);
  const test = 'Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four.';
  const idx = new NgramIndex();
  idx.add(test);
  assert.deepEqual(idx.check("Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes cookies."), { long: true, short: true });
  assert.deepEqual(idx.check('Tom’s hens lay 20 eggs per day. She eats three for breakfast every morning and sells the rest.'), { long: false, short: true });
  assert.deepEqual(idx.check('A robe takes 2 bolts of blue fiber and half that much white fiber.'), { long: false, short: false });
  // a question shorter than n is compared whole
  const short = new NgramIndex();
  short.add('How many legs do 3 cats have?');
  assert.equal(short.check('how many legs do 3 cats have').long, true);
  assert.equal(ngramHashes(['a', 'b', 'c'], 2).length, 2);
  assert.ok(hasNumbers('She has twelve apples') && hasNumbers('3 cats') && !hasNumbers('A cat sat on a mat.'));
});

test('decontamination finds GSM8K test questions in themselves and none of a disjoint split', { skip: sharedSkip(['gsm8k', 'test_minus_holdout.jsonl']) }, () => {
  const read = (f: string) => readFileSync(sharedData('gsm8k', f), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { question: string }).question);
  const testQs = read('test_minus_holdout.jsonl');
  const idx = new NgramIndex();
  for (const q of testQs) idx.add(q);
  assert.ok(testQs.slice(0, 100).every((q) => idx.check(q).long));
  const train = read('train.part1.jsonl').slice(0, 1000);
  const hits = train.filter((q) => idx.check(q).long).length;
  assert.ok(hits < 10, `${hits} train questions share a 13-gram with test`);
});
