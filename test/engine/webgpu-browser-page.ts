// The page half of webgpu-browser.test.ts (bundled by esbuild): a subset of the conformance cases run on
// navigator.gpu with the same WebGPU kernels as Node, compared with the reference kernels in the page.
/// <reference types="@webgpu/types" />
import { acquireDevice, adapterLabel } from '../../src/engine/webgpu/device.ts';
import { GpuKernels, type GpuTensor } from '../../src/engine/webgpu/kernels.ts';
import { refKernels } from '../../src/engine/ref/index.ts';
import { Rng } from '../../src/util/rng.ts';

type Tol = { atol: number; rtol: number };
export interface CaseResult {
  name: string;
  /** max over elements of |got - want| - (atol + rtol |want|): <= 0 passes. */
  excess: number;
}

async function main(): Promise<{ adapter?: string; cases?: CaseResult[]; error?: string }> {
  const acq = await acquireDevice(navigator.gpu);
  if (!acq.ok) return { error: acq.reason };
  const k = new GpuKernels(acq.device);
  const rng = new Rng(20261206);
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * s);
  const up = (x: Float32Array | Int32Array): GpuTensor => {
    const t = { buf: k.createBuffer(x.length), off: 0 };
    k.write(t, x);
    return t;
  };
  const read = async (t: GpuTensor, n: number) => (await k.read([{ t, n }]))[0]!;
  const cases: CaseResult[] = [];
  const compare = (name: string, got: Float32Array, want: Float32Array, tol: Tol) => {
    let excess = -Infinity;
    for (let i = 0; i < want.length; i++) excess = Math.max(excess, Math.abs(got[i]! - want[i]!) - (tol.atol + tol.rtol * Math.abs(want[i]!)));
    cases.push({ name, excess: Number.isNaN(excess) ? Infinity : excess });
  };

  for (const [N, C, OC] of [[7, 13, 9], [37, 45, 29], [5, 300, 70]] as const) {
    const inp = rand(N * C), w = rand(OC * C), bias = rand(OC), dout = rand(N * OC), dinp = rand(N * C), dw = rand(OC * C), db = rand(OC);
    const out = up(new Float32Array(N * OC)), gdinp = up(dinp), gdw = up(dw), gdb = up(db);
    const ginp = up(inp), gw = up(w);
    k.matmul_forward(out, ginp, gw, up(bias), N, C, OC);
    k.matmul_backward(gdinp, gdw, gdb, up(dout), ginp, gw, N, C, OC);
    const want = new Float32Array(N * OC);
    refKernels.matmul_forward(want, inp, w, bias, N, C, OC);
    refKernels.matmul_backward(dinp, dw, db, dout, inp, w, N, C, OC);
    compare(`matmul_forward N${N} C${C} OC${OC}`, await read(out, N * OC), want, { atol: 1e-5 * Math.sqrt(C), rtol: 1e-5 });
    compare(`matmul_backward dinp N${N} C${C} OC${OC}`, await read(gdinp, N * C), dinp, { atol: 1e-5 * Math.sqrt(OC), rtol: 1e-5 });
    compare(`matmul_backward dweight N${N} C${C} OC${OC}`, await read(gdw, OC * C), dw, { atol: 1e-5 * Math.sqrt(N), rtol: 1e-5 });
    compare(`matmul_backward dbias N${N} C${C} OC${OC}`, await read(gdb, OC), db, { atol: 1e-5 * Math.sqrt(N), rtol: 1e-5 });
  }

  for (const [B, T, NH, NKV, HS, window, scale] of [[2, 7, 4, 2, 5, 0, 1 / Math.sqrt(5)], [2, 19, 3, 1, 12, 5, 1], [1, 70, 2, 2, 16, 0, 1]] as const) {
    const R = (NH + 2 * NKV) * HS;
    const qkv = rand(B * T * R), dout = rand(B * T * NH * HS), dqkv = rand(B * T * R);
    const gqkv = up(qkv), out = up(new Float32Array(B * T * NH * HS)), att = up(new Float32Array(B * NH * T * T)), gdqkv = up(dqkv);
    k.attention_forward(out, att, gqkv, B, T, NH, NKV, HS, window, scale);
    k.attention_backward(gdqkv, up(new Float32Array(B * NH * T * T)), up(dout), gqkv, att, B, T, NH, NKV, HS, window, scale);
    const wantOut = new Float32Array(B * T * NH * HS), wantAtt = new Float32Array(B * NH * T * T);
    refKernels.attention_forward(wantOut, wantAtt, qkv, B, T, NH, NKV, HS, window, scale);
    refKernels.attention_backward(dqkv, new Float32Array(B * NH * T * T), dout, qkv, wantAtt, B, T, NH, NKV, HS, window, scale);
    const what = `B${B} T${T} NH${NH} NKV${NKV} HS${HS} window${window}`;
    const tol = { atol: 2e-5, rtol: 1e-4 };
    compare(`attention_forward out ${what}`, await read(out, wantOut.length), wantOut, tol);
    compare(`attention_forward att ${what}`, await read(att, wantAtt.length), wantAtt, tol);
    compare(`attention_backward dqkv ${what}`, await read(gdqkv, dqkv.length), dqkv, tol);
  }

  for (const [N, C] of [[7, 13], [5, 67]] as const) {
    const inp = rand(N * C, 2), w = rand(C), b = rand(C);
    const out = up(new Float32Array(N * C)), mean = up(new Float32Array(N)), rstd = up(new Float32Array(N));
    k.layernorm_forward(out, mean, rstd, up(inp), up(w), up(b), N, C, 1e-5);
    const want = new Float32Array(N * C);
    refKernels.layernorm_forward(want, new Float32Array(N), new Float32Array(N), inp, w, b, N, C, 1e-5);
    compare(`layernorm_forward N${N} C${C}`, await read(out, N * C), want, { atol: 2e-5, rtol: 1e-5 });
  }

  for (const [N, V] of [[5, 37], [3, 4096]] as const) {
    const logits = rand(N * V, 8);
    const targets = Int32Array.from({ length: N }, (_, i) => (i === N - 1 ? -1 : rng.int(V)));
    const glogits = up(logits), losses = up(new Float32Array(N));
    k.crossentropy_softmax_forward(losses, glogits, glogits, up(targets), N, V); // probs alias logits
    const wantLoss = new Float32Array(N);
    refKernels.crossentropy_softmax_forward(wantLoss, logits, logits, targets, N, V);
    compare(`crossentropy_softmax_forward losses N${N} V${V}`, await read(losses, N), wantLoss, { atol: 1e-6, rtol: 1e-5 });
    compare(`crossentropy_softmax_forward probs N${N} V${V}`, await read(glogits, N * V), logits, { atol: 1e-6, rtol: 1e-5 });
  }
  k.dispose();
  return { adapter: adapterLabel(acq.summary), cases };
}

(window as unknown as { __result: unknown }).__result = await main().catch((e: unknown) => ({ error: String((e as Error)?.stack ?? e) }));
