// PyTorch checkpoints (`pytorch_model.bin`, torch.save's ZIP format) read without Python, by a restricted unpickler.
//
// The archive: `<prefix>/data.pkl` (a pickle of the state dict), `<prefix>/data/<key>` (raw little-endian storage
// bytes, one file per storage), `<prefix>/version`, and in newer versions `<prefix>/byteorder`.
// The pickle names each tensor as `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
// hooks)`, where `storage` is a persistent id `('storage', torch.FloatStorage, key, location, numel)`.
//
// A pickle is a program: GLOBAL/STACK_GLOBAL import any callable and REDUCE calls it. This interpreter never imports
// or calls anything: it knows a short list of names (ALLOWED below), each mapped to a TypeScript function that
// builds plain data, and refuses every other global, and the opcodes that build arbitrary objects (INST, OBJ,
// NEWOBJ, EXT), with an error naming what the file asked for. Nothing in the file can run code.
import type { NamedTensor } from '../checkpoint/safetensors.ts';
import { UserError } from '../util/errors.ts';
import { fromBf16, fromHalf } from '../util/half.ts';
import { isZip, readZip } from '../util/zip.ts';

/** Element types of torch storages, by the storage class name pickled in the persistent id. */
const STORAGES: Record<string, { bytes: number; read: (dv: DataView, i: number) => number }> = {
  FloatStorage: { bytes: 4, read: (dv, i) => dv.getFloat32(i * 4, true) },
  HalfStorage: { bytes: 2, read: (dv, i) => fromHalf(dv.getUint16(i * 2, true)) },
  BFloat16Storage: { bytes: 2, read: (dv, i) => fromBf16(dv.getUint16(i * 2, true)) },
  DoubleStorage: { bytes: 8, read: (dv, i) => dv.getFloat64(i * 8, true) },
  LongStorage: { bytes: 8, read: (dv, i) => Number(dv.getBigInt64(i * 8, true)) },
  IntStorage: { bytes: 4, read: (dv, i) => dv.getInt32(i * 4, true) },
  ShortStorage: { bytes: 2, read: (dv, i) => dv.getInt16(i * 2, true) },
  CharStorage: { bytes: 1, read: (dv, i) => dv.getInt8(i) },
  ByteStorage: { bytes: 1, read: (dv, i) => dv.getUint8(i) },
  BoolStorage: { bytes: 1, read: (dv, i) => (dv.getUint8(i) ? 1 : 0) },
};

interface StorageType {
  kind: 'storage-type';
  name: string;
}
interface StorageRef {
  kind: 'storage';
  type: string;
  key: string;
  numel: number;
}
interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}
interface Callable {
  kind: 'callable';
  name: string;
  call: (args: unknown[]) => unknown;
}
class Mark {}
const MARK = new Mark();

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 0)) throw new Error(`${what} must be a tuple of non-negative integers`);
  return v as number[];
}

function rebuildTensor(args: unknown[]): TensorRef {
  const [storage, offset, size, stride] = args;
  const s = storage as StorageRef;
  if (!s || s.kind !== 'storage') throw new Error('_rebuild_tensor_v2: the first argument is not a storage');
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new Error('_rebuild_tensor_v2: storage offset must be a non-negative integer');
  const shape = intList(size, '_rebuild_tensor_v2 size');
  const strides = intList(stride, '_rebuild_tensor_v2 stride');
  if (shape.length !== strides.length) throw new Error('_rebuild_tensor_v2: size and stride differ in length');
  return { kind: 'tensor', storage: s, offset, shape, stride: strides };
}

/** The only globals a state dict needs; everything else is refused. */
const ALLOWED: Record<string, Callable | StorageType> = {
  'collections OrderedDict': { kind: 'callable', name: 'collections.OrderedDict', call: () => new Map<unknown, unknown>() },
  'torch._utils _rebuild_tensor_v2': { kind: 'callable', name: 'torch._utils._rebuild_tensor_v2', call: rebuildTensor },
  'torch._utils _rebuild_parameter': {
    kind: 'callable',
    name: 'torch._utils._rebuild_parameter',
    call: (args) => {
      if ((args[0] as TensorRef)?.kind !== 'tensor') throw new Error('_rebuild_parameter: the first argument is not a tensor');
      return args[0];
    },
  },
};
for (const name of Object.keys(STORAGES)) ALLOWED[`torch ${name}`] = { kind: 'storage-type', name };

/** The refusal for a global the file names: the file is not run, and the name says what it wanted. */
function refuseGlobal(module: string, name: string): never {
  throw new Error(`refuses to load global ${module}.${name} (only tensors, storages and OrderedDict are allowed in a state dict; a pickle that names other globals may run code)`);
}

/**
 * Interprets a pickle restricted to state-dict content. Returns the unpickled root (a Map for dicts, arrays for
 * tuples and lists, TensorRef objects for tensors). Throws a plain Error on anything outside that subset.
 */
export function restrictedUnpickle(data: Uint8Array): unknown {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const text = new TextDecoder('utf-8', { fatal: true });
  let p = 0;
  const need = (k: number) => {
    if (p + k > data.byteLength) throw new Error(`the pickle ends early at byte ${p} (truncated?)`);
  };
  const u8 = () => (need(1), data[p++]!);
  const u16 = () => (need(2), (p += 2), dv.getUint16(p - 2, true));
  const u32 = () => (need(4), (p += 4), dv.getUint32(p - 4, true));
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(data.byteLength)) throw new Error(`a length of ${v} bytes exceeds the pickle (truncated?)`);
    return Number(v);
  };
  const bytes = (k: number) => (need(k), (p += k), data.subarray(p - k, p));
  const line = () => {
    const end = data.indexOf(0x0a, p);
    if (end < 0) throw new Error('the pickle ends inside a text argument (truncated?)');
    const s = new TextDecoder('latin1').decode(data.subarray(p, end));
    p = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) throw new Error(`stack underflow at byte ${p}`);
    return stack.pop();
  };
  const popMark = () => {
    const m = marks.pop();
    if (m === undefined) throw new Error(`no MARK before byte ${p}`);
    return stack.splice(m);
  };
  const top = () => {
    if (stack.length === 0) throw new Error(`stack underflow at byte ${p}`);
    return stack[stack.length - 1];
  };
  const lookup = (module: string, name: string) => (Object.hasOwn(ALLOWED, `${module} ${name}`) ? ALLOWED[`${module} ${name}`]! : refuseGlobal(module, name));
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) throw new Error('SETITEM(S) on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i], items[i + 1]);
  };
  const append = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) throw new Error('APPEND(S) on something that is not a list');
    target.push(...items);
  };
  for (;;) {
    const at = p;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(dv.getInt32(p, true));
        p += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement
        const b = bytes(u8());
        let v = 0n;
        for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (b.length > 0 && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
        stack.push(Number(v));
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(dv.getFloat64(p, false));
        p += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text.decode(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text.decode(bytes(u64())));
        break;
      case 0x54: // BINSTRING
        stack.push(new TextDecoder('latin1').decode(bytes(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder('latin1').decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const m = new Map();
        setItems(m, popMark());
        stack.push(m);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT
        memo.set(Number(line()), top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(k)) throw new Error(`memo key ${k} is not defined`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(lookup(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new Error('STACK_GLOBAL needs two strings');
        stack.push(lookup(module, name));
        break;
      }
      case 0x52: {
        // REDUCE: only the allowed callables above, which build plain data
        const args = pop();
        const fn = pop() as Callable;
        if (!fn || fn.kind !== 'callable') throw new Error(`REDUCE at byte ${at} calls something that is not an allowed callable`);
        if (!Array.isArray(args)) throw new Error(`REDUCE at byte ${at}: arguments are not a tuple`);
        stack.push(fn.call(args));
        break;
      }
      case 0x62: {
        // BUILD: state for an OrderedDict (the state dict's _metadata); nothing else takes state
        const state = pop();
        const obj = top();
        if (!(obj instanceof Map)) throw new Error(`BUILD at byte ${at} sets state on something that is not a dict`);
        void state;
        break;
      }
      case 0x51: {
        // BINPERSID: ('storage', StorageType, key, location, numel)
        const pid = pop();
        if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new Error(`persistent id at byte ${at} is not a storage reference`);
        const type = pid[1] as StorageType;
        if (!type || type.kind !== 'storage-type') throw new Error(`persistent id at byte ${at} names no storage type`);
        if (typeof pid[2] !== 'string' || !/^[\w.-]+$/.test(pid[2]) || typeof pid[4] !== 'number') throw new Error(`persistent id at byte ${at} has a bad key or size`);
        stack.push({ kind: 'storage', type: type.name, key: pid[2], numel: pid[4] } satisfies StorageRef);
        break;
      }
      default: {
        const names: Record<number, string> = { 0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x50: 'PERSID' };
        throw new Error(`opcode ${names[op] ?? '0x' + op.toString(16).padStart(2, '0')} at byte ${at} is not allowed in a state dict`);
      }
    }
  }
}

/** Options for readTorchStateDict. */
export interface TorchReadOptions {
  /** Keep only tensors whose name passes (skipping large buffers such as GPT-Neo's causal masks). */
  keep?: (name: string) => boolean;
}

/**
 * Reads a `torch.save`d state dict (pytorch_model.bin) into F32 tensors in file order. Float, half, bfloat16 and
 * integer/bool storages are widened to Float32; strided views are gathered. `where` names the file in errors.
 * @example const tensors = readTorchStateDict(readFileSync('pytorch_model.bin'), 'pytorch_model.bin');
 */
export function readTorchStateDict(buf: Uint8Array, where: string, opts: TorchReadOptions = {}): Map<string, NamedTensor> {
  if (!isZip(buf)) {
    const legacy = buf.byteLength >= 2 && buf[0] === 0x80 && buf[1]! <= 5;
    throw new UserError(
      `${where}: not a PyTorch ZIP checkpoint${legacy ? ' (a bare pickle: the legacy pre-1.6 torch.save format is not supported; re-save it with a current PyTorch)' : ' (expected pytorch_model.bin written by torch.save)'}`,
    );
  }
  const entries = readZip(buf, where);
  const pkl = [...entries.keys()].find((k) => /^[^/]+\/data\.pkl$/.test(k));
  if (!pkl) throw new UserError(`${where}: the ZIP archive holds no <name>/data.pkl, so it is not a torch.save checkpoint`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = entries.get(prefix + 'byteorder');
  if (order && new TextDecoder().decode(order.data).trim() !== 'little') throw new UserError(`${where}: big-endian storages are not supported`);
  let root: unknown;
  try {
    root = restrictedUnpickle(entries.get(pkl)!.data);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${where}: ${(e as Error).message}`);
  }
  // A full checkpoint may wrap the weights: {"model": state_dict} or {"state_dict": ...}.
  if (root instanceof Map && ![...root.values()].some((v) => (v as TensorRef)?.kind === 'tensor')) {
    const wrapper = root;
    for (const k of ['state_dict', 'model', 'module']) if (wrapper.get(k) instanceof Map) root = wrapper.get(k);
  }
  if (!(root instanceof Map)) throw new UserError(`${where}: the pickle holds no dict of tensors (a state dict was expected)`);
  const out = new Map<string, NamedTensor>();
  for (const [name, value] of root) {
    if (typeof name !== 'string') throw new UserError(`${where}: a state-dict key is not a string`);
    const t = value as TensorRef;
    if (!t || t.kind !== 'tensor') continue; // non-tensor entries (e.g. a step counter) carry no weights
    if (opts.keep && !opts.keep(name)) continue;
    const file = entries.get(`${prefix}data/${t.storage.key}`);
    if (!file) throw new UserError(`${where}: tensor ${name} refers to storage ${t.storage.key}, which the archive lacks (truncated?)`);
    out.set(name, { name, shape: t.shape.slice(), data: gather(t, file.data, `${where}: tensor ${name}`) });
  }
  return out;
}

function gather(t: TensorRef, bytes: Uint8Array, where: string): Float32Array {
  const st = STORAGES[t.storage.type]!;
  const available = Math.floor(bytes.byteLength / st.bytes);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n === 0) return new Float32Array(0);
  // a view may repeat elements (stride 0), but a state dict never needs more values than 2^31
  if (n > 2 ** 31) throw new UserError(`${where} has shape [${t.shape.join(', ')}], too large to load`);
  let last = t.offset;
  for (let d = 0; d < t.shape.length; d++) last += (t.shape[d]! - 1) * t.stride[d]!;
  if (last >= available) throw new UserError(`${where} reaches element ${last} of a storage holding ${available} (truncated or damaged)`);
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let contiguous = true;
  for (let d = t.shape.length - 1, s = 1; d >= 0; d--) {
    if (t.shape[d]! > 1 && t.stride[d] !== s) contiguous = false;
    s *= t.shape[d]!;
  }
  if (contiguous) {
    if (t.storage.type === 'FloatStorage') {
      const copy = Uint8Array.prototype.slice.call(bytes, t.offset * 4, (t.offset + n) * 4); // an aligned copy (Buffer#slice would be a view)
      out.set(new Float32Array(copy.buffer, 0, n));
    } else for (let i = 0; i < n; i++) out[i] = st.read(dv, t.offset + i);
    return out;
  }
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let src = t.offset;
    for (let d = 0; d < idx.length; d++) src += idx[d]! * t.stride[d]!;
    out[i] = st.read(dv, src);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < t.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}
