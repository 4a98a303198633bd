// Sends chat requests under bounded concurrency, RPM and TPM token buckets, with retries (exponential backoff +
// jitter, Retry-After honoured) and a per-request timeout. O(1) work per request so the client is never the limit.
import type { CallOptions, ChatProvider, ChatRequest, ChatResponse, LlmErrorKind } from './types.ts';
import { LlmError, estimateTokens } from './types.ts';

export interface SchedulerOptions {
  /** Requests in flight at once (default 16). */
  concurrency?: number;
  /** Requests per minute (default unlimited). */
  rpm?: number;
  /** Tokens per minute, input estimate + max output tokens, corrected by the real usage (default unlimited). */
  tpm?: number;
  /** Retries after the first try for retryable errors (default 6). */
  maxRetries?: number;
  /** Per-request timeout in ms (default 120 s). */
  timeoutMs?: number;
  /** First backoff delay in ms (default 500); doubles each retry up to maxDelayMs (default 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Uniform [0,1) source for jitter (tests pass a seeded one). */
  random?: () => number;
  /** Called on each retry (for logs and progress). Never receives request bodies or keys. */
  onRetry?: (info: { requestId?: string; attempt: number; delayMs: number; error: LlmError }) => void;
}

/** Counters since the scheduler was created. */
export interface SchedulerStats {
  completed: number;
  failed: number;
  retries: number;
  errors: Partial<Record<LlmErrorKind, number>>;
  inputTokens: number;
  outputTokens: number;
  inFlight: number;
  queued: number;
}

/** A token bucket refilled continuously; `tokens` may go negative when a reservation is corrected upwards. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly perMs: number;
  constructor(readonly perMinute: number, readonly capacity: number, now = performance.now()) {
    this.tokens = capacity;
    this.last = now;
    this.perMs = perMinute / 60_000;
  }
  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
  }
  /** Milliseconds until `n` tokens are available (0 = now). A request larger than the bucket waits for a full bucket. */
  waitFor(n: number, now: number): number {
    this.refill(now);
    const need = Math.min(n, this.capacity);
    return this.tokens >= need ? 0 : Math.ceil((need - this.tokens) / this.perMs);
  }
  take(n: number): void {
    this.tokens -= n;
  }
  /** Corrects an earlier reservation (positive = used more than reserved). */
  adjust(delta: number): void {
    this.tokens -= delta;
  }
}

interface Job {
  req: ChatRequest;
  opts: CallOptions;
  estimate: number;
  attempt: number;
  resolve: (r: ChatResponse) => void;
  reject: (e: unknown) => void;
}

/** Bounded, rate-limited, retrying front of a ChatProvider. `run()` resolves with the response or the final error. */
export class Scheduler {
  readonly stats: SchedulerStats = { completed: 0, failed: 0, retries: 0, errors: {}, inputTokens: 0, outputTokens: 0, inFlight: 0, queued: 0 };
  private readonly queue: Job[] = [];
  private head = 0;
  private readonly retryQueue: Job[] = [];
  private active = 0;
  private pausedUntil = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private readonly rpm?: TokenBucket;
  private readonly tpm?: TokenBucket;
  private readonly concurrency: number;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;

  constructor(readonly provider: ChatProvider, private readonly opts: SchedulerOptions = {}) {
    this.concurrency = Math.max(1, opts.concurrency ?? 16);
    this.maxRetries = opts.maxRetries ?? 6;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.random = opts.random ?? Math.random;
    // Bursts are capped at one second's worth so a fresh bucket does not fire a whole minute's budget at once.
    if (opts.rpm) this.rpm = new TokenBucket(opts.rpm, Math.max(1, opts.rpm / 60));
    if (opts.tpm) this.tpm = new TokenBucket(opts.tpm, Math.max(1, opts.tpm / 60));
  }

  /** Queues a request; resolves when it succeeded (after retries) or rejects with the last LlmError. */
  run(req: ChatRequest, opts: CallOptions = {}): Promise<ChatResponse> {
    return new Promise<ChatResponse>((resolve, reject) => {
      let chars = 0;
      for (const m of req.messages) chars += m.content.length;
      const estimate = Math.ceil(chars / 4) + req.maxTokens;
      this.queue.push({ req, opts, estimate, attempt: 0, resolve, reject });
      this.stats.queued++;
      this.pump();
    });
  }

  /** Requests queued or in flight. */
  get pending(): number {
    return this.stats.queued + this.active;
  }

  private next(): Job | undefined {
    if (this.retryQueue.length) return this.retryQueue[0];
    return this.head < this.queue.length ? this.queue[this.head] : undefined;
  }

  private shift(): void {
    if (this.retryQueue.length) {
      this.retryQueue.shift();
      return;
    }
    this.queue[this.head++] = undefined as never;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private wake(ms: number): void {
    const at = performance.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(1, ms));
  }

  private pump(): void {
    while (this.active < this.concurrency) {
      const job = this.next();
      if (!job) return;
      if (this.rpm || this.tpm || this.pausedUntil) {
        const now = performance.now();
        if (now < this.pausedUntil) return this.wake(this.pausedUntil - now);
        const wait = Math.max(this.rpm?.waitFor(1, now) ?? 0, this.tpm?.waitFor(job.estimate, now) ?? 0);
        if (wait > 0) return this.wake(wait);
        this.rpm?.take(1);
        this.tpm?.take(job.estimate);
      }
      this.shift();
      this.stats.queued--;
      this.active++;
      this.stats.inFlight = this.active;
      this.start(job);
    }
  }

  private start(job: Job): void {
    this.provider
      .complete(job.req, { requestId: job.opts.requestId, signal: job.opts.signal, timeoutMs: job.opts.timeoutMs ?? this.timeoutMs })
      .then(
        (res) => {
          this.active--;
          this.stats.inFlight = this.active;
          this.stats.completed++;
          this.stats.inputTokens += res.usage.inputTokens;
          this.stats.outputTokens += res.usage.outputTokens;
          this.tpm?.adjust(res.usage.inputTokens + res.usage.outputTokens - job.estimate);
          job.resolve(res);
          this.pump();
        },
        (raw) => {
          this.active--;
          this.stats.inFlight = this.active;
          const err = raw instanceof LlmError ? raw : new LlmError(String((raw as Error)?.message ?? raw), 'bad_response', undefined, undefined, { cause: raw });
          this.stats.errors[err.kind] = (this.stats.errors[err.kind] ?? 0) + 1;
          if (!err.retryable || job.attempt >= this.maxRetries || job.opts.signal?.aborted) {
            this.stats.failed++;
            job.reject(err);
            this.pump();
            return;
          }
          job.attempt++;
          this.stats.retries++;
          const backoff = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (job.attempt - 1));
          // Full jitter on the upper half keeps retries from synchronising; Retry-After is a floor, not a hint.
          let delay = backoff * (0.5 + 0.5 * this.random());
          if (err.retryAfterMs !== undefined) {
            delay = Math.max(delay * 0.25, err.retryAfterMs);
            if (err.kind === 'rate_limit') this.pausedUntil = Math.max(this.pausedUntil, performance.now() + err.retryAfterMs);
          }
          this.opts.onRetry?.({ requestId: job.opts.requestId, attempt: job.attempt, delayMs: delay, error: err });
          setTimeout(() => {
            this.retryQueue.push(job);
            this.stats.queued++;
            this.pump();
          }, delay);
          this.pump();
        },
      );
  }
}

export { estimateTokens };
