// `gsm filter` as a library: every drop reason counted, input order kept, executed answers attached, and
// decontamination counts reported (one warm sandbox pool for the file).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SandboxPool } from '../../src/sandbox/pool.ts';
import { buildTestIndex, filterRecords } from '../../src/gsm/filter.ts';
import { toTinyGsmFunction } from '../../src/gsm/tinygsm.ts';

let pool: SandboxPool;
before(async () => {
  // A 64 MiB cap: the memory bomb's first fill of fresh pages costs CPU (~3 ms per MiB), kept well under the 1 s limit;
  // waiting for a CPU on a busy machine is not charged to the limit (see test/sandbox/sandbox.test.ts).
  pool = await SandboxPool.create({ workers: 2, timeoutMs: 1000, graceMs: 300, memoryLimitMb: 64 });
});
after(async () => {
  await pool?.close();
});

const TEST_QS = ['Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. How much does she make?'];

function rec(id: string, question: string, program: string, tinygsm = true): Record<string, unknown> {
  return tinygsm ? { id, question, code: toTinyGsmFunction(question, program) } : { id, question, program };
}

async function* from<T>(xs: T[]): AsyncGenerator<T> {
  for (const x of xs) yield x;
}

test('every drop reason, order kept, answers attached, decontamination counted', async () => {
  const rows = [
    rec('ok1', 'Mia has 12 apples and gives away 5 of them to her friends. How many are left?', 'result = 12 - 5'),
    rec('short', 'What is 2+2?', 'result = 4'),
    rec('nonum', 'Mia has some apples and gives away a few of them to her friends. How many are left?', 'result = 1'),
    rec('dup', 'Mia has 12 apples and gives away 5 of them to her friends.  How many are LEFT?', 'result = 7'),
    rec('contam', 'Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. How much?', 'result = 18'),
    rec('err', 'Leo shares 10 sweets between 0 friends equally each day for a week. How many each?', 'result = 10 / 0'),
    rec('loop', 'Leo counts 10 sheep every night for 5 nights while trying to sleep. How many sheep?', 'x = 0\nwhile True:\n    x += 1\nresult = x'),
    rec('str', 'Leo buys 3 books at 4 dollars each at the fair on Sunday. How much did he pay?', 'result = "twelve"'),
    rec('mem', 'Leo stacks 3 boxes of 4 kilograms each on the truck today. How heavy is it?', 'x = [bytearray(10**6) for _ in range(10**4)]\nresult = 12'),
    { id: 'bad', text: 'no question here' },
    rec('ok2', 'A farmer has 3 fields with 1,200 plants in each field. How many plants are there?', 'fields = 3\nresult = f"{fields * 1200:,}"', false),
    rec('near', 'Tom’s hens lay 20 eggs per day. She eats three for breakfast every morning and sells the rest. How many remain?', 'result = 17'),
  ];
  const kept: Array<Record<string, unknown>> = [];
  const idx = await buildTestIndex(TEST_QS);
  const report = await filterRecords(from(rows), (r) => void kept.push(r), { pool, decontaminate: idx, window: 3 });
  assert.deepEqual(kept.map((r) => r.id), ['ok1', 'ok2', 'near']);
  assert.deepEqual(kept.map((r) => r.answer), [7, 3600, 17]);
  assert.match(String(kept[1]!.text), /^def simple_math_problem\(\) -> int:/);
  assert.deepEqual(report.dropped, {
    too_short: 1, no_numbers: 1, exact_duplicate: 1, contaminated_13: 1, exec_error: 1, exec_timeout: 1, non_numeric: 1, exec_memory: 1, malformed_record: 1,
  });
  assert.equal(report.read, rows.length);
  assert.equal(report.kept, 3);
  const d = report.decontamination!;
  assert.equal(d.checked, 3 + 1 + 4); // everything that reached the check
  assert.equal(d.overlap13, 1);
  assert.equal(d.overlap8, 2);
  assert.equal(d.dropped, 1);

  const strict: Array<Record<string, unknown>> = [];
  const r2 = await filterRecords(from([rows[11]!]), (r) => void strict.push(r), { pool, decontaminate: idx, dropShortOverlap: true });
  assert.equal(strict.length, 0);
  assert.equal(r2.dropped.contaminated_8, 1);
});
