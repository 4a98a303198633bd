// A pool of Pyodide sandbox workers reused across programs: one program at a time per worker, a per-program time
// limit (interrupt first, then terminate and replace), a WebAssembly memory cap, and typed results.
//
// The verdict depends on what the program did, not on how busy the machine was: the time limit is charged with the
// time the worker thread ran or slept, not the time it sat runnable waiting for a CPU (Linux schedstat; elsewhere
// plain wall time), and going over the memory cap is a memory failure even if the time limit also came.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { normalizeValue, type RawValue } from './normalize.ts';

/** Why a program produced no usable number. */
export type FailureKind = 'timeout' | 'error' | 'non_numeric' | 'memory' | 'blocked';

/** The outcome of one program. `value` is the normalized number; `raw` what Python returned. */
export type ExecResult =
  | { ok: true; value: number; raw: RawValue; ms: number; stdout: string }
  | { ok: false; failure: FailureKind; message: string; raw?: RawValue; errorType?: string; ms: number; stdout: string };

export interface SandboxOptions {
  /** Worker threads (default: min(2, cores)). */
  workers?: number;
  /** Default per-program time limit in ms (default 2000). */
  timeoutMs?: number;
  /** After the interrupt, how long a program may take to stop before its worker is terminated (default 250 ms). */
  graceMs?: number;
  /** WebAssembly heap cap per worker in MiB (default 256). */
  memoryLimitMb?: number;
  /** Characters of printed output kept per program (default 2000). */
  maxOutputChars?: number;
  /** Function called when the program defines it (default `simple_math_problem`); otherwise the global `result` is read. */
  entry?: string;
  /** Replace a worker after this many programs (default 50,000; 0 = never): bounds any state a program leaves behind. */
  recycleAfter?: number;
  /**
   * Wall-clock backstop as a multiple of the time limit (default 10): however starved of CPU a worker is, a program
   * is stopped after this much real time.
   */
  maxStretch?: number;
}

export interface RunOptions {
  timeoutMs?: number;
  entry?: string;
}

/** Counters since the pool was created. */
export interface SandboxStats {
  executions: number;
  timeouts: number;
  /** Workers terminated and replaced (time limit in C code, fatal errors, crashes, blocked escapes). */
  restarts: number;
  /** Cold-start times of every worker started, in ms. */
  coldStartMs: number[];
  /** Time programs spent waiting for a CPU (not charged to their time limit), in ms. */
  starvedMs: number;
}

interface Job {
  id: number;
  code: string;
  entry: string;
  timeoutMs: number;
  resolve: (r: ExecResult) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  interrupt: Int32Array;
  ready: boolean;
  job?: Job;
  started: number;
  timer?: NodeJS.Timeout;
  grace?: NodeJS.Timeout;
  interrupted: boolean;
  dead: boolean;
  runs: number;
  /** /proc/<pid>/task/<tid>/schedstat of the worker thread, when the OS has one. */
  schedstat?: string;
  /** Run-queue wait of the worker thread when the current job started, in ms. */
  waitAtStart?: number;
}

/** How long a thread has waited runnable for a CPU, in ms (2nd field of schedstat, ns), or undefined. */
function runqueueWaitMs(schedstat: string | undefined): number | undefined {
  if (!schedstat) return undefined;
  try {
    const ns = Number(readFileSync(schedstat, 'latin1').split(' ')[1]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

const WORKER_URL = new URL('./worker.mjs', import.meta.url);
const RUNNER_PATH = fileURLToPath(new URL('./runner.py', import.meta.url));

/**
 * Runs Python programs in reused Pyodide workers. Create with `SandboxPool.create()`, always `close()`.
 *
 * @example
 * const pool = await SandboxPool.create({ workers: 2, timeoutMs: 1000 });
 * const r = await pool.run('def simple_math_problem() -> int:\n    result = 6 * 7\n    return result\n');
 * // r = { ok: true, value: 42, ... }
 * await pool.close();
 */
export class SandboxPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private startupError: unknown;
  readonly stats: SandboxStats = { executions: 0, timeouts: 0, restarts: 0, coldStartMs: [], starvedMs: 0 };
  private readonly opts: Required<SandboxOptions>;

  private constructor(opts: SandboxOptions) {
    this.opts = {
      workers: opts.workers ?? Math.max(1, Math.min(2, availableParallelism())),
      timeoutMs: opts.timeoutMs ?? 2000,
      graceMs: opts.graceMs ?? 250,
      memoryLimitMb: opts.memoryLimitMb ?? 256,
      maxOutputChars: opts.maxOutputChars ?? 2000,
      entry: opts.entry ?? 'simple_math_problem',
      recycleAfter: opts.recycleAfter ?? 50_000,
      maxStretch: opts.maxStretch ?? 10,
    };
  }

  /** Starts the workers and waits until all are ready (each cold start is ~2-3 s, in parallel). */
  static async create(opts: SandboxOptions = {}): Promise<SandboxPool> {
    const pool = new SandboxPool(opts);
    const starts: Promise<void>[] = [];
    for (let i = 0; i < pool.opts.workers; i++) starts.push(pool.spawn());
    try {
      await Promise.all(starts);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get size(): number {
    return this.opts.workers;
  }

  /** Runs one program; never rejects for anything the program does (only after close()). */
  run(code: string, o: RunOptions = {}): Promise<ExecResult> {
    if (this.closed) return Promise.reject(new Error('sandbox pool is closed'));
    return new Promise<ExecResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, code, entry: o.entry ?? this.opts.entry, timeoutMs: o.timeoutMs ?? this.opts.timeoutMs, resolve, reject });
      this.pump();
    });
  }

  /** Runs many programs with every worker busy; results in input order. */
  async runAll(codes: string[], o: RunOptions = {}): Promise<ExecResult[]> {
    return Promise.all(codes.map((c) => this.run(c, o)));
  }

  /** Terminates every worker; queued programs are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error('sandbox pool closed'));
    await Promise.all(
      this.slots.map(async (s) => {
        s.dead = true;
        clearTimeout(s.timer);
        clearTimeout(s.grace);
        s.job?.reject(new Error('sandbox pool closed'));
        s.job = undefined;
        await s.worker.terminate();
      }),
    );
  }

  private spawn(): Promise<void> {
    const sab = new SharedArrayBuffer(4);
    const worker = new Worker(WORKER_URL, {
      workerData: { memoryLimitBytes: this.opts.memoryLimitMb * 1024 * 1024, interrupt: sab, runnerPath: RUNNER_PATH },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
      stdout: true,
      stderr: true,
    });
    // Pyodide prints fatal-error reports on the worker's console: not ours to show.
    worker.stdout.resume();
    worker.stderr.resume();
    const slot: Slot = { worker, interrupt: new Int32Array(sab), ready: false, started: 0, interrupted: false, dead: false, runs: 0 };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => {
        if (m.ready) {
          slot.ready = true;
          if (m.threadProc && runqueueWaitMs(`${m.threadProc}/schedstat`) !== undefined) slot.schedstat = `${m.threadProc}/schedstat`;
          this.stats.coldStartMs.push(m.coldMs ?? 0);
          resolve();
          this.pump();
          return;
        }
        this.onResult(slot, m);
      });
      worker.on('error', (e) => {
        if (!slot.ready) reject(new Error(`sandbox worker failed to start: ${e.message}`));
        this.onDeath(slot, `the sandbox worker crashed (${e.message})`);
      });
      worker.on('exit', (code) => {
        if (!slot.ready && !slot.dead) reject(new Error(`sandbox worker exited with code ${code} while starting`));
        this.onDeath(slot, `the sandbox worker exited (code ${code})`);
      });
    }).catch((e) => {
      this.startupError = e;
      throw e;
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.dead || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.interrupted = false;
      slot.started = performance.now();
      slot.waitAtStart = runqueueWaitMs(slot.schedstat);
      Atomics.store(slot.interrupt, 0, 0);
      slot.worker.postMessage({ id: job.id, code: job.code, entry: job.entry, maxOutput: this.opts.maxOutputChars });
      slot.timer = setTimeout(() => this.checkTimeLimit(slot, job), job.timeoutMs);
    }
  }

  /** Time the current job has waited for a CPU since it started, in ms (0 without schedstat). */
  private starved(slot: Slot): number {
    const now = runqueueWaitMs(slot.schedstat);
    return now === undefined || slot.waitAtStart === undefined ? 0 : Math.max(0, now - slot.waitAtStart);
  }

  /**
   * The wall-clock timer fired: charge only the time the program ran or slept. If waiting for a CPU ate part of the
   * limit, check again when the rest would be used up (until the maxStretch backstop); else stop the program.
   */
  private checkTimeLimit(slot: Slot, job: Job): void {
    if (slot.job !== job) return;
    const wall = performance.now() - slot.started;
    const charged = wall - this.starved(slot);
    if (charged < job.timeoutMs && wall < job.timeoutMs * this.opts.maxStretch) {
      const rest = Math.min(job.timeoutMs - charged, job.timeoutMs * this.opts.maxStretch - wall);
      slot.timer = setTimeout(() => this.checkTimeLimit(slot, job), Math.max(5, Math.ceil(rest)));
      return;
    }
    this.onTimeLimit(slot, job);
  }

  /** Time limit reached: raise KeyboardInterrupt (works for Python loops); terminate if it does not stop. */
  private onTimeLimit(slot: Slot, job: Job): void {
    if (slot.job !== job) return;
    slot.interrupted = true;
    Atomics.store(slot.interrupt, 0, 2); // SIGINT
    slot.grace = setTimeout(() => {
      if (slot.job !== job) return;
      this.finish(slot, { ok: false, failure: 'timeout', message: `no result within ${job.timeoutMs} ms (worker terminated: the program ignored the interrupt or was inside C code)`, ms: this.elapsed(slot), stdout: '' });
      this.replace(slot);
    }, this.opts.graceMs);
  }

  private onResult(slot: Slot, m: WorkerMessage): void {
    const job = slot.job;
    if (!job || m.id !== job.id) return;
    const ms = this.elapsed(slot);
    if (m.fatal !== undefined) {
      const failure: FailureKind = m.blocked ? 'blocked' : m.capHit ? 'memory' : 'error';
      this.finish(slot, { ok: false, failure, message: m.blocked ? `blocked: ${m.blocked}` : `the interpreter failed: ${m.fatal}`, ms, stdout: '' });
      this.replace(slot);
      return;
    }
    const r = m.result!;
    const stdout = r.stdout ?? '';
    let res: ExecResult;
    if (r.status === 'ok') {
      const n = normalizeValue(r.value!);
      res = n.ok ? { ok: true, value: n.value, raw: r.value!, ms, stdout } : { ok: false, failure: 'non_numeric', message: n.message, raw: r.value, ms, stdout };
    } else if (r.status === 'timeout' || (slot.interrupted && r.status === 'error')) {
      res = { ok: false, failure: 'timeout', message: `no result within ${job.timeoutMs} ms (interrupted)`, ms, stdout };
    } else if (r.status === 'memory') {
      res = { ok: false, failure: 'memory', message: r.message ?? 'out of memory', ms, stdout };
    } else if (r.status === 'blocked') {
      res = { ok: false, failure: 'blocked', message: r.message ?? 'blocked', ms, stdout };
    } else {
      res = { ok: false, failure: 'error', errorType: r.errorType, message: `${r.errorType ?? 'Error'}: ${r.message ?? ''}`, ms, stdout };
    }
    // A result after the interrupt still counts as a timeout: the limit was reached.
    if (slot.interrupted && res.ok) res = { ok: false, failure: 'timeout', message: `no result within ${job.timeoutMs} ms`, raw: res.raw, ms, stdout };
    this.finish(slot, res);
    // A blocked escape means the Python-side defences were bypassed: start from a clean interpreter.
    slot.runs++;
    if (res.ok === false && res.failure === 'blocked') this.replace(slot);
    else if (this.opts.recycleAfter > 0 && slot.runs >= this.opts.recycleAfter) this.replace(slot);
    else this.pump();
  }

  private elapsed(slot: Slot): number {
    return Math.round((performance.now() - slot.started) * 100) / 100;
  }

  private finish(slot: Slot, r: ExecResult): void {
    const job = slot.job!;
    clearTimeout(slot.timer);
    clearTimeout(slot.grace);
    this.stats.starvedMs += this.starved(slot);
    slot.job = undefined;
    this.stats.executions++;
    if (!r.ok && r.failure === 'timeout') this.stats.timeouts++;
    job.resolve(r);
  }

  private onDeath(slot: Slot, message: string): void {
    if (slot.dead) return;
    if (slot.job) this.finish(slot, { ok: false, failure: 'error', message, ms: this.elapsed(slot), stdout: '' });
    this.replace(slot);
  }

  /** Terminates a worker and starts a fresh one in its place (queued programs wait for any free worker). */
  private replace(slot: Slot): void {
    if (slot.dead) return;
    slot.dead = true;
    clearTimeout(slot.timer);
    clearTimeout(slot.grace);
    void slot.worker.terminate();
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (this.closed) return;
    this.stats.restarts++;
    this.spawn().catch((e) => {
      // Cannot start a replacement: fail what is queued rather than stall.
      if (this.slots.every((s) => s.dead || !s.ready)) for (const j of this.queue.splice(0)) j.reject(e);
    });
  }
}

interface WorkerMessage {
  ready?: boolean;
  coldMs?: number;
  threadProc?: string | null;
  id?: number;
  fatal?: string;
  blocked?: string | null;
  capHit?: boolean;
  heapBytes?: number;
  result?: { status: 'ok' | 'error' | 'timeout' | 'memory' | 'blocked'; value?: RawValue; errorType?: string; message?: string; stdout?: string };
}
