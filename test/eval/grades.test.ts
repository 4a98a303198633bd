// Grade parsing: the paper's line, its common variants, JSON mode, and answers that must be refused (not guessed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGrades, parseJsonGrades, parseLabeledScores } from '../../src/eval/grades.ts';

test("the paper's form", () => {
  const r = parseGrades('Grammar: 8/10, Creativity: 7/10, Consistency: 7/10, Age group: E (10-12)');
  assert.deepEqual(r, { ok: true, grades: { grammar: 8, creativity: 7, consistency: 7, plot: null, age: 'E' } });
});

test('variants: markdown, lists, "out of", decimals, other denominators, long labels, age ranges', () => {
  const cases: Array<[string, { grammar: number; creativity: number; consistency: number; plot: number | null; age: string | null }]> = [
    ['**Grammar**: 9/10\n**Creativity**: 6/10\n**Consistency**: 8/10\n**Plot**: 7/10\n**Age group**: C (6-7)', { grammar: 9, creativity: 6, consistency: 8, plot: 7, age: 'C' }],
    ['1. Grammar - 6 out of 10\n2. Creativity - 5 out of 10\n3. Consistency with the beginning - 4 out of 10\n4. Whether the plot makes sense: 3/10\n5. Age group: B: 4-5', { grammar: 6, creativity: 5, consistency: 4, plot: 3, age: 'B' }],
    ['Grammar: 7.5/10, Creativity: 3/5, Consistency: 80/100, Plot: 6/10. Age group: D', { grammar: 7.5, creativity: 6, consistency: 8, plot: 6, age: 'D' }],
    ['| Dimension | Score |\n|---|---|\n| Grammar | 8/10 |\n| Creativity | 6/10 |\n| Consistency | 7/10 |\n| Plot | 5/10 |\n| Age group | F (13-16) |', { grammar: 8, creativity: 6, consistency: 7, plot: 5, age: 'F' }],
    ["Consistency with the story's beginning: 7/10\nGrammar: 8/10\nCreativity: 6/10\nThe student's age group would be C.", { grammar: 8, creativity: 6, consistency: 7, plot: null, age: 'C' }],
    ['Grammar: 5\nCreativity: 4\nConsistency: 3\nPlot (does it make sense): 2\nAge: 8-9 years old', { grammar: 5, creativity: 4, consistency: 3, plot: 2, age: 'D' }],
    ['Grammar: 10/10, Creativity: 0/10, Consistency: 0/10, Plot: 0/10, Age group: A (3 or under)', { grammar: 10, creativity: 0, consistency: 0, plot: 0, age: 'A' }],
  ];
  for (const [text, want] of cases) {
    const r = parseGrades(text);
    assert.ok(r.ok, `${text}: ${!r.ok ? r.reason : ''}`);
    assert.deepEqual(r.grades, want, text);
  }
});

test('refuses what it cannot read instead of guessing', () => {
  for (const text of [
    'The story is lovely and the student is probably young.',
    'Grammar: good. Creativity: 7/10. Consistency: 6/10.',
    'Grammar: 8/10, Creativity: 7/10',
    'Grammar: 12/10, Creativity: 7/10, Consistency: 6/10',
    'Grammar: N/A, Creativity: N/A, Consistency: N/A',
  ]) {
    const r = parseGrades(text);
    assert.equal(r.ok, false, text);
  }
  // a number that belongs to another label is not taken
  const r = parseGrades('Grammar is fine. Creativity: 7/10, Consistency: 6/10');
  assert.equal(r.ok, false);
});

test('JSON mode: plain, fenced, nested, string scores; bad values rejected', () => {
  assert.deepEqual(parseJsonGrades('{"grammar": 8, "creativity": 7, "consistency": 6, "plot": 5, "age_group": "C"}'), { ok: true, grades: { grammar: 8, creativity: 7, consistency: 6, plot: 5, age: 'C' } });
  assert.deepEqual(parseGrades('```json\n{"Grammar": "9/10", "Creativity": {"score": 4}, "Consistency": 3, "Age group": "E (10-12)"}\n```'), { ok: true, grades: { grammar: 9, creativity: 4, consistency: 3, plot: null, age: 'E' } });
  assert.deepEqual(parseJsonGrades('{"scores": {"grammar": 2, "creativity": 3, "consistency": 4, "plot": 5}, "age": "6-7"}'), { ok: true, grades: { grammar: 2, creativity: 3, consistency: 4, plot: 5, age: 'C' } });
  assert.equal(parseJsonGrades('{"grammar": 11, "creativity": 3, "consistency": 4}').ok, false);
  assert.equal(parseJsonGrades('{"grammar": 8').ok, false);
  assert.equal(parseJsonGrades('{"creativity": 3, "consistency": 4}').ok, false);
});

test('labeled scores for the Instruct rubric', () => {
  const r = parseLabeledScores('Words: 9/10, Features: 6/10, Overall: 7/10, Grammar: 8/10', { words: /\bwords?\b/i, features: /\bfeatures?\b/i, summary: /\bsummary\b/i, overall: /\boverall\b/i });
  assert.deepEqual(r, { ok: true, scores: { words: 9, features: 6, summary: null, overall: 7 } });
});
