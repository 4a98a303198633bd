// Progress reporting for long work: a redrawn bar with rate and ETA on a TTY, plain periodic lines otherwise.

export interface ProgressOptions {
  /** What is being done, e.g. "tokenize". */
  label: string;
  /** Total units if known (bytes, steps, stories); undefined shows a counter without ETA. */
  total?: number;
  /** Unit name shown after the rate, e.g. "MB", "tok", "stories". */
  unit?: string;
  /** Divide raw counts by this for display (e.g. 1e6 for MB). */
  scale?: number;
  /** Where to write; default process.stderr. */
  stream?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  /** Seconds between plain (non-TTY) lines; default 10. */
  plainEverySeconds?: number;
  /** Silence all output (tests, --quiet). */
  quiet?: boolean;
}

/** A progress bar; call update() often (it throttles itself), done() at the end. */
export class Progress {
  private readonly start = performance.now();
  private lastDraw = 0;
  private current = 0;
  private extra = '';
  private readonly tty: boolean;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean((this.stream as { isTTY?: boolean }).isTTY);
  }
  /** Set the absolute amount done and an optional suffix such as "loss 2.31". */
  update(done: number, extra?: string): void {
    this.current = done;
    if (extra !== undefined) this.extra = extra;
    if (this.opts.quiet) return;
    const now = performance.now();
    const every = this.tty ? 100 : (this.opts.plainEverySeconds ?? 10) * 1000;
    if (now - this.lastDraw < every) return;
    this.lastDraw = now;
    this.draw(false);
  }
  /** Add to the amount done. */
  tick(delta = 1, extra?: string): void {
    this.update(this.current + delta, extra);
  }
  /** Final line. */
  done(extra?: string): void {
    if (extra !== undefined) this.extra = extra;
    if (!this.opts.quiet) this.draw(true);
  }
  /** Elapsed seconds. */
  elapsed(): number {
    return (performance.now() - this.start) / 1000;
  }
  private draw(final: boolean): void {
    const scale = this.opts.scale ?? 1;
    const unit = this.opts.unit ?? '';
    const secs = Math.max(this.elapsed(), 1e-9);
    const rate = this.current / scale / secs;
    const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
    let s = `${this.opts.label} `;
    const total = this.opts.total;
    if (total && total > 0) {
      const frac = Math.min(1, this.current / total);
      if (this.tty) {
        const width = 24;
        const filled = Math.round(frac * width);
        s += `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] `;
      }
      s += `${(frac * 100).toFixed(1)}% ${fmt(this.current / scale)}/${fmt(total / scale)}${unit ? ' ' + unit : ''}`;
      const eta = frac > 0 && !final ? (secs * (1 - frac)) / frac : 0;
      s += ` ${fmt(rate)} ${unit}/s`;
      if (!final) s += ` ETA ${formatSeconds(eta)}`;
    } else {
      s += `${fmt(this.current / scale)}${unit ? ' ' + unit : ''} ${fmt(rate)} ${unit}/s`;
    }
    s += ` ${formatSeconds(secs)}`;
    if (this.extra) s += ` ${this.extra}`;
    if (this.tty) this.stream.write(`\r\x1b[2K${s}${final ? '\n' : ''}`);
    else this.stream.write(s + '\n');
  }
}

/** 75 -> "1m15s". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.round(s - m * 60).toString().padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${(m - h * 60).toString().padStart(2, '0')}m`;
}
