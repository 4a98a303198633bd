// The safetensors file format (Hugging Face): an 8-byte little-endian header length, a JSON header, then raw tensor bytes.
//
// We write F32 only (what the engine trains in); we read F32, F16 and BF16 (converted to F32) so checkpoints saved
// by PyTorch in half precision load too. Spec: https://github.com/huggingface/safetensors#format
import { readFileSync } from 'node:fs';
import { writeFileAtomic, writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { fromHalf } from '../util/half.ts';

/** One named tensor: a row-major Float32Array and its shape. */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

type Dtype = 'F32' | 'F16' | 'BF16';
const BYTES: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2 };

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Encodes tensors as a safetensors file, in the order given. `metadata` goes in the header's `__metadata__`
 * (string values only, as the format requires). Returns the chunks to write (header, then each tensor's bytes).
 * @example writeFileAtomicSync('model.safetensors', Buffer.concat(encodeSafetensors([{ name: 'w', shape: [2], data }])))
 */
export function encodeSafetensors(tensors: NamedTensor[], metadata?: Record<string, string>): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new Error(`safetensors: duplicate tensor name ${t.name}`);
    seen.add(t.name);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: ${t.name} has ${t.data.length} values but shape [${t.shape}]`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + n * 4] };
    offset += n * 4;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (what the Rust library does).
  // TextEncoder and DataView, not Buffer: the browser site writes safetensors too
  const rawLen = new TextEncoder().encode(json).length;
  json += ' '.repeat((8 - ((8 + rawLen) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  const chunks: Uint8Array[] = [prefix, headerBytes];
  for (const t of tensors) chunks.push(f32LittleEndianBytes(t.data));
  return chunks;
}

/** Writes tensors to `path` atomically (temp file + fsync + rename). */
export async function writeSafetensors(path: string, tensors: NamedTensor[], metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Synchronous twin of writeSafetensors (used where a signal handler must finish before exit). */
export function writeSafetensorsSync(path: string, tensors: NamedTensor[], metadata?: Record<string, string>): void {
  writeFileAtomicSync(path, Buffer.concat(encodeSafetensors(tensors, metadata)));
}

/** The parsed contents of a safetensors file: tensors by name (in file order) and the header metadata. */
export interface SafetensorsFile {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

/**
 * Decodes a safetensors buffer; `where` names the file in error messages. F16/BF16 are widened to F32. `keep`
 * skips tensors by name before their dtype is checked (e.g. HF GPT-Neo's BOOL causal-mask buffers).
 */
export function decodeSafetensors(buf: Uint8Array, where = 'safetensors', keep?: (name: string) => boolean): SafetensorsFile {
  const bad = (msg: string) => new UserError(`${where}: not a valid safetensors file (${msg})`);
  if (buf.byteLength < 8) throw bad('shorter than its 8-byte header length');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > buf.byteLength - 8 || headerLen > 100_000_000) throw bad(`header length ${headerLen} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw bad(`header is not JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = buf.byteLength - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__') as Array<[string, HeaderEntry]>;
  // File order = data offset order (JSON key order is not meaningful to other writers).
  entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  const tensors = new Map<string, NamedTensor>();
  for (const [name, e] of entries) {
    if (!e || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) throw bad(`tensor ${name} lacks shape/data_offsets`);
    if (keep && !keep(name)) continue;
    if (!(e.dtype in BYTES)) throw new UserError(`${where}: tensor ${name} has dtype ${e.dtype}; only F32, F16 and BF16 are supported`);
    const dtype = e.dtype as Dtype;
    const n = e.shape.reduce((a: number, b: number) => a * b, 1);
    const [begin, end] = e.data_offsets;
    if (end - begin !== n * BYTES[dtype] || begin < 0 || end > dataLen) throw bad(`tensor ${name} offsets [${begin}, ${end}] do not fit shape [${e.shape}] ${dtype}`);
    tensors.set(name, { name, shape: e.shape.slice(), data: toF32(buf, dataStart + begin, n, dtype) });
  }
  return { tensors, metadata };
}

/** Reads and decodes a safetensors file (`keep` as in decodeSafetensors). */
export function readSafetensors(path: string, keep?: (name: string) => boolean): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(buf, path, keep);
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function f32LittleEndianBytes(data: Float32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(); // a copy: the view may be shared memory
  const out = new Uint8Array(data.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i]!, true);
  return out;
}

function toF32(buf: Uint8Array, byteOffset: number, n: number, dtype: Dtype): Float32Array {
  const out = new Float32Array(n);
  const dv = new DataView(buf.buffer, buf.byteOffset + byteOffset, n * BYTES[dtype]);
  if (dtype === 'F32') {
    if (littleEndian) out.set(new Float32Array(Uint8Array.prototype.slice.call(buf, byteOffset, byteOffset + n * 4).buffer));
    else for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  } else if (dtype === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = dv.getUint16(i * 2, true) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = fromHalf(dv.getUint16(i * 2, true));
  }
  return out;
}
