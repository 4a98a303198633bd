// A persistent pool of kernel workers on one shared WebAssembly.Memory: the main thread writes a job (kernel index
// + arguments) into a shared control block, wakes the workers with Atomics.notify, runs its own share as thread 0
// and waits for the rest. Platform-neutral: the platform (node.ts, or a browser) supplies the Worker.

/** The few things the pool needs from a Worker (Node's worker_threads or a browser Web Worker). */
export interface PoolWorker {
  postMessage(message: unknown): void;
  onMessage(cb: (message: unknown) => void): void;
  onError(cb: (err: unknown) => void): void;
  terminate(): void;
}

const SPIN = 4000;
// control block layout (Int32 slots); arguments as Float64 from byte 64
const SEQ = 0;
const PENDING = 1;
const FN = 2;
const NARGS = 3;
const QUIT = 4;
const ERROR = 5;
const MAX_ARGS = 24;

export type KernelFn = (...args: number[]) => void;

export class WorkerPool {
  readonly threads: number;
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly workers: PoolWorker[];
  private readonly mainFns: KernelFn[];
  private readonly canWait: boolean;
  private workerError: string | null = null;
  private disposed = false;

  private constructor(threads: number, control: SharedArrayBuffer, workers: PoolWorker[], mainFns: KernelFn[], canWait: boolean) {
    this.threads = threads;
    this.ctrl = new Int32Array(control, 0, 16);
    this.args = new Float64Array(control, 64, MAX_ARGS);
    this.workers = workers;
    this.mainFns = mainFns;
    this.canWait = canWait;
  }

  /**
   * Starts threads-1 workers, each instantiating `module` on `memory` with its own scratch region, and returns
   * once all are ready. `names` lists the kernel exports in the order `run` indexes them.
   */
  static async start(opts: {
    threads: number;
    module: WebAssembly.Module;
    memory: WebAssembly.Memory;
    names: string[];
    mainFns: KernelFn[];
    scratch: number[];
    spawn: () => PoolWorker;
    canWait: boolean;
  }): Promise<WorkerPool> {
    const control = new SharedArrayBuffer(64 + 8 * MAX_ARGS);
    const workers: PoolWorker[] = [];
    const ready: Promise<void>[] = [];
    const pool = new WorkerPool(opts.threads, control, workers, opts.mainFns, opts.canWait);
    for (let tid = 1; tid < opts.threads; tid++) {
      const w = opts.spawn();
      workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          w.onMessage((m) => {
            const msg = m as { ready?: boolean; error?: string };
            if (msg.ready) resolve();
            else if (msg.error) {
              pool.workerError = msg.error;
              reject(new Error(`wasm worker ${tid}: ${msg.error}`));
            }
          });
          w.onError((err) => reject(err instanceof Error ? err : new Error(String(err))));
        }),
      );
      w.postMessage({ module: opts.module, memory: opts.memory, names: opts.names, tid, nth: opts.threads, control, scratch: opts.scratch[tid] });
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      for (const w of workers) w.terminate();
      throw err;
    }
    return pool;
  }

  /** Runs kernel `fn` with `args` (then tid, nth) on every thread; returns when all are done. */
  run(fn: number, args: ArrayLike<number>, nargs: number): void {
    const nth = this.threads;
    const main = this.mainFns[fn]!;
    if (nth === 1) {
      callWith(main, args, nargs, 0, 1);
      return;
    }
    if (this.disposed) throw new Error('wasm backend: used after dispose()');
    const ctrl = this.ctrl;
    for (let i = 0; i < nargs; i++) this.args[i] = args[i]!;
    ctrl[FN] = fn;
    ctrl[NARGS] = nargs;
    Atomics.store(ctrl, PENDING, nth - 1);
    Atomics.add(ctrl, SEQ, 1);
    Atomics.notify(ctrl, SEQ);
    let mainError: unknown = null;
    try {
      callWith(main, args, nargs, 0, nth);
    } catch (err) {
      mainError = err;
    }
    let spins = 0;
    let p: number;
    while ((p = Atomics.load(ctrl, PENDING)) !== 0) {
      if (this.canWait && ++spins > SPIN) {
        Atomics.wait(ctrl, PENDING, p, 1000);
        spins = 0;
      }
    }
    if (mainError) throw mainError;
    if (Atomics.load(ctrl, ERROR) !== 0) {
      Atomics.store(ctrl, ERROR, 0);
      throw new Error(`wasm worker failed: ${this.workerError ?? 'unknown error'}`);
    }
  }

  /** Runs kernel `fn` on the calling thread only (tid 0 of 1). */
  runSolo(fn: number, args: ArrayLike<number>, nargs: number): void {
    callWith(this.mainFns[fn]!, args, nargs, 0, 1);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctrl, QUIT, 1);
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
    for (const w of this.workers) w.terminate();
  }
}

function callWith(f: KernelFn, a: ArrayLike<number>, n: number, tid: number, nth: number): void {
  switch (n) {
    case 1: return f(a[0]!, tid, nth);
    case 3: return f(a[0]!, a[1]!, a[2]!, tid, nth);
    case 4: return f(a[0]!, a[1]!, a[2]!, a[3]!, tid, nth);
    case 5: return f(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, tid, nth);
    case 6: return f(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, tid, nth);
    case 7: return f(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, tid, nth);
    case 8: return f(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, tid, nth);
    case 9: return f(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, tid, nth);
    case 10: return f(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, tid, nth);
    case 11: return f(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, tid, nth);
    case 12: return f(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, tid, nth);
    case 13: return f(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, tid, nth);
    default: throw new Error(`wasm pool: unsupported argument count ${n}`);
  }
}
