// safetensors writer/reader: byte layout per the spec, round trips, half-precision reads and clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { UserError } from '../../src/util/errors.ts';

test('layout: u64 LE header length, JSON header with offsets, 8-byte aligned data, F32 little endian', () => {
  const a = new Float32Array([1, -2.5, 3.25, 0.1, 5, 6]);
  const b = new Float32Array([7]);
  const buf = Buffer.concat(encodeSafetensors([{ name: 'a.weight', shape: [2, 3], data: a }, { name: 'b', shape: [1], data: b }], { format: 'pt' }));
  const n = Number(buf.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  assert.deepEqual(header.__metadata__, { format: 'pt' });
  assert.deepEqual(header['a.weight'], { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  assert.deepEqual(header.b, { dtype: 'F32', shape: [1], data_offsets: [24, 28] });
  assert.equal(buf.length, 8 + n + 28);
  assert.equal(buf.readFloatLE(8 + n + 4), -2.5);
  assert.equal(buf.readFloatLE(8 + n + 24), 7);
});

test('round trip through a file keeps names, order, shapes and exact bits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  const data = new Float32Array(1000).map((_, i) => Math.sin(i) * 1e-3 + i);
  data[3] = -0;
  data[4] = 1e-42; // subnormal
  const path = join(dir, 'm.safetensors');
  await writeSafetensors(path, [
    { name: 'z', shape: [10, 100], data },
    { name: 'a', shape: [2], data: new Float32Array([1, 2]) },
  ]);
  const f = readSafetensors(path);
  assert.deepEqual([...f.tensors.keys()], ['z', 'a']);
  const z = f.tensors.get('z')!;
  assert.deepEqual(z.shape, [10, 100]);
  assert.deepEqual(Buffer.from(z.data.buffer), Buffer.from(data.buffer));
  assert.ok(Object.is(z.data[3], -0));
});

test('reads F16 and BF16 tensors written by other tools, widening to F32', () => {
  // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800; BF16: 1.0 = 0x3F80, -3.0 = 0xC040
  const header = JSON.stringify({ h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] }, b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] } });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const data = Buffer.alloc(10);
  [0x3c00, 0xc000, 0x3800, 0x3f80, 0xc040].forEach((v, i) => data.writeUInt16LE(v, i * 2));
  const f = decodeSafetensors(Buffer.concat([len, Buffer.from(header), data]));
  assert.deepEqual([...f.tensors.get('h')!.data], [1, -2, 0.5]);
  assert.deepEqual([...f.tensors.get('b')!.data], [1, -3]);
});

test('truncated or malformed files give a UserError naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  const good = Buffer.concat(encodeSafetensors([{ name: 'w', shape: [4], data: new Float32Array(4) }]));
  const path = join(dir, 'bad.safetensors');
  writeFileSync(path, good.subarray(0, good.length - 3));
  assert.throws(() => readSafetensors(path), (e: Error) => e instanceof UserError && e.message.includes(path) && e.message.includes('w'));
  writeFileSync(path, Buffer.from([1, 2, 3]));
  assert.throws(() => readSafetensors(path), UserError);
  const i64 = JSON.stringify({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(i64.length));
  assert.throws(() => decodeSafetensors(Buffer.concat([len, Buffer.from(i64), Buffer.alloc(8)])), /I64/);
  assert.throws(() => encodeSafetensors([{ name: 'w', shape: [3], data: new Float32Array(4) }]), /shape/);
  assert.ok(readFileSync(path).length === 3);
});
