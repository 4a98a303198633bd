// Turns a KernelDef plus concrete GPU tensors into a pipeline, a uniform block and a bind group (one Dispatch),
// and replays lists of dispatches in a compute pass. Pipelines are cached per (kernel, constants, binding pattern).
/// <reference types="@webgpu/types" />
import type { KernelDef } from './wgsl.ts';

/**
 * What dispatch() compiles: a wgsl.ts kernel, or one that also binds f16/u32 arrays and opens with module
 * directives (`enable f16;`, `diagnostic(...)`; wgsl-decode.ts). Offsets of an f16 argument count 2-byte elements.
 */
export interface ProgramDef extends Omit<KernelDef, 'args'> {
  args: ReadonlyArray<readonly [name: string, type: 'f32' | 'i32' | 'f16' | 'u32', access: 'r' | 'w']>;
  directives?: readonly string[];
}

/** A float or int view into a GPU buffer: `off` counts 4-byte elements from the buffer's start. */
export interface GpuTensor {
  buf: GPUBuffer;
  off: number;
}

/** One recorded compute dispatch; its uniform buffer lives as long as the dispatch is kept. */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  bind: GPUBindGroup;
  groups: [number, number, number];
  uniform: GPUBuffer;
}

// GPUBufferUsage / GPUMapMode values (the globals are absent in Node unless installed by hand)
export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const MAP_READ = 0x1;

const MAX_GROUPS = 65535;

/** Workgroups for n threads of a 1-D kernel, folded into 2-D past the 65535 per-dimension limit. */
export function groups1d(threads: number, wg: number): [number, number, number] {
  const g = Math.max(1, Math.ceil(threads / wg));
  const x = Math.min(g, MAX_GROUPS);
  return [x, Math.ceil(g / x), 1];
}

/** Rewrites every `name[expr]` (name a whole word) into `binding[P.o_name + (expr)]`, brackets matched. */
function rewriteIndex(src: string, name: string, binding: string): string {
  const re = new RegExp(`\\b${name}\\[`, 'g');
  let out = '';
  let last = 0;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    // skip member accesses like P.name[ (none exist today, but be exact)
    if (m.index > 0 && src[m.index - 1] === '.') continue;
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    for (; i < src.length && depth > 0; i++) {
      if (src[i] === '[') depth++;
      else if (src[i] === ']') depth--;
    }
    if (depth !== 0) throw new Error(`internal: unbalanced brackets after ${name}[`);
    const inner = rewriteIndex(src.slice(start, i - 1), name, binding);
    out += `${src.slice(last, m.index)}${binding}[P.o_${name} + (${inner})]`;
    last = i;
    re.lastIndex = i;
  }
  return out + src.slice(last);
}

function constDecl(name: string, v: number | boolean): string {
  if (typeof v === 'boolean') return `const ${name} = ${v};`;
  if (!Number.isInteger(v) || v < 0) throw new Error(`internal: constant ${name} must be a non-negative integer`);
  return `const ${name} = ${v}u;`;
}

/** Compiles and runs kernels on one device. */
export class ProgramCache {
  readonly device: GPUDevice;
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(device: GPUDevice) {
    this.device = device;
  }

  /**
   * One dispatch of `def` over `args` (null for an absent optional input: HAS_<name> is false) with uniform
   * `params` (in the def's order) and compile-time `consts`.
   */
  dispatch(def: ProgramDef, args: ReadonlyArray<GpuTensor | null>, params: ReadonlyArray<number>, groups: [number, number, number], consts: Record<string, number | boolean> = {}): Dispatch {
    if (args.length !== def.args.length || params.length !== def.params.length) throw new Error(`internal: ${def.name} called with the wrong arity`);
    // one binding per distinct buffer; read_write when any argument on it writes
    const bufs: Array<{ buf: GPUBuffer; type: string; write: boolean }> = [];
    const slot: number[] = [];
    def.args.forEach(([name, type, access], i) => {
      const a = args[i];
      if (!a) {
        slot.push(-1);
        return;
      }
      if (a.buf.size > this.device.limits.maxStorageBufferBindingSize) throw new Error(`webgpu: buffer ${a.buf.label || '(unnamed)'} (${a.buf.size} bytes) exceeds the largest storage binding of this device`);
      let k = bufs.findIndex((b) => b.buf === a.buf);
      if (k < 0) {
        k = bufs.length;
        bufs.push({ buf: a.buf, type, write: false });
      } else if (bufs[k]!.type !== type) {
        throw new Error(`internal: ${def.name}: argument ${name} shares a buffer with an argument of another type`);
      }
      if (access === 'w') bufs[k]!.write = true;
      slot.push(k);
    });
    // an absent input reads (never, HAS_ is false) from any binding of its type, so the shader still type-checks
    def.args.forEach(([name, type, access], i) => {
      if (slot[i]! >= 0) return;
      if (access === 'w') throw new Error(`internal: ${def.name}: output ${name} is required`);
      const k = bufs.findIndex((b) => b.type === type);
      if (k < 0) throw new Error(`internal: ${def.name}: no binding of type ${type} for absent ${name}`);
      slot[i] = k;
    });
    const allConsts: Record<string, number | boolean> = { WG: def.wg, ...consts };
    def.args.forEach(([name], i) => (allConsts[`HAS_${name}`] = args[i] !== null));
    const key = `${def.name}|${JSON.stringify(allConsts)}|${slot.join(',')}|${bufs.map((b) => `${b.type}${b.write ? 'w' : 'r'}`).join(',')}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.compile(def, allConsts, slot, bufs, key);
      this.pipelines.set(key, pipeline);
    }
    // uniform block: element offsets of each argument, then the scalars, 4 bytes each
    const nSlots = def.args.length + def.params.length;
    const ub = new ArrayBuffer(Math.max(16, Math.ceil((nSlots * 4) / 16) * 16));
    const u32 = new Uint32Array(ub);
    const f32 = new Float32Array(ub);
    def.args.forEach((_, i) => (u32[i] = args[i]?.off ?? 0));
    def.params.forEach(([name, type], i) => {
      const v = params[i]!;
      if (type === 'f32') f32[def.args.length + i] = v;
      else {
        if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new Error(`internal: ${def.name}: ${name} = ${v} is not a u32`);
        u32[def.args.length + i] = v;
      }
    });
    const uniform = this.device.createBuffer({ size: ub.byteLength, usage: USAGE.UNIFORM | USAGE.COPY_DST, mappedAtCreation: true });
    new Uint8Array(uniform.getMappedRange()).set(new Uint8Array(ub));
    uniform.unmap();
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniform } }];
    bufs.forEach((b, k) => entries.push({ binding: k + 1, resource: { buffer: b.buf } }));
    const bind = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    return { pipeline, bind, groups, uniform };
  }

  private compile(def: ProgramDef, consts: Record<string, number | boolean>, slot: number[], bufs: Array<{ type: string; write: boolean }>, key: string): GPUComputePipeline {
    const lines: string[] = [...(def.directives ?? [])];
    for (const [k, v] of Object.entries(consts)) lines.push(constDecl(k, v));
    const fields = [...def.args.map(([name]) => `o_${name}: u32`), ...def.params.map(([name, type]) => `${name}: ${type}`)];
    lines.push(`struct Params { ${fields.join(', ')} }`);
    lines.push('@group(0) @binding(0) var<uniform> P: Params;');
    bufs.forEach((b, k) => lines.push(`@group(0) @binding(${k + 1}) var<storage, ${b.write ? 'read_write' : 'read'}> b${k}: array<${b.type}>;`));
    if (def.extra) lines.push(def.extra);
    let body = def.body;
    def.args.forEach(([name], i) => (body = rewriteIndex(body, name, `b${slot[i]}`)));
    lines.push(`@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let lid = lid3.x;
  let WGI = wid.y * nwg.x + wid.x;
  let GI = WGI * WG + lid;
${body}
}`);
    const code = lines.join('\n');
    const module = this.device.createShaderModule({ code, label: key });
    return this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: def.name });
  }

  /** Encodes dispatches, in order, as one compute pass (WebGPU orders storage writes between dispatches). */
  encode(encoder: GPUCommandEncoder, list: readonly Dispatch[]): void {
    if (list.length === 0) return;
    const pass = encoder.beginComputePass();
    for (const d of list) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bind);
      pass.dispatchWorkgroups(d.groups[0], d.groups[1], d.groups[2]);
    }
    pass.end();
  }

  /** Frees the uniform buffers of dispatches that will not run again (safe right after their submit). */
  release(list: readonly Dispatch[]): void {
    for (const d of list) d.uniform.destroy();
  }
}
