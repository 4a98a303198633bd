// Why a training session ends before its last step, and the Ctrl-C / abort handling that asks it to.
export type StopReason = 'interrupted' | 'time' | 'stalled';

/** A second Ctrl-C this soon after the first is taken as the same one. */
export const SIGINT_GRACE_MS = 2000;

export interface StopOptions {
  /** Install a SIGINT handler: the first Ctrl-C stops after the step (with a checkpoint); a later one exits at once. */
  handleSignals?: boolean;
  /** Stops like a Ctrl-C when aborted. */
  signal?: AbortSignal;
  log: (line: string) => void;
  /** The step of the last committed checkpoint of this session (-1: none yet), for the quit-now message. */
  lastCheckpoint: () => number;
}

/**
 * The stop request of a training session: the loop checks `reason` between steps. The first reason wins.
 * @example const stop = new StopRequest({ handleSignals: true, log, lastCheckpoint: () => -1 }); ...; stop.dispose();
 */
export class StopRequest {
  reason: StopReason | null = null;
  private firstSigint = 0;
  private readonly onSigint = () => this.sigint();
  private readonly onAbort = () => this.request('interrupted');

  constructor(private readonly o: StopOptions) {
    if (o.handleSignals) process.on('SIGINT', this.onSigint);
    o.signal?.addEventListener('abort', this.onAbort);
  }

  /** Asks the loop to stop after the current step. */
  request(reason: StopReason): void {
    this.reason ??= reason;
  }

  private sigint(): void {
    if (this.reason === 'interrupted') {
      // One Ctrl-C often arrives twice (the terminal signals npm and node, and npm forwards it; `timeout -s INT`
      // likewise): a repeat within the grace period is the same request to stop after a checkpoint.
      if (performance.now() - this.firstSigint < SIGINT_GRACE_MS) return;
      const step = this.o.lastCheckpoint();
      this.o.log(`\nsecond Ctrl-C: quitting now; the run keeps its last checkpoint${step >= 0 ? ` (step ${step})` : ''}`);
      process.exit(130);
    }
    this.request('interrupted');
    this.firstSigint = performance.now();
    this.o.log(`\nCtrl-C: finishing this step and writing a checkpoint (Ctrl-C again after ${SIGINT_GRACE_MS / 1000} s to quit at once)`);
  }

  /** Removes the handlers. A Ctrl-C's repeat that lands just after the loop ended must not kill the finishing process. */
  dispose(): void {
    this.o.signal?.removeEventListener('abort', this.onAbort);
    if (!this.o.handleSignals) return;
    process.off('SIGINT', this.onSigint);
    const left = this.firstSigint > 0 ? SIGINT_GRACE_MS - (performance.now() - this.firstSigint) : 0;
    if (left > 0) {
      const ignore = () => {};
      process.on('SIGINT', ignore);
      setTimeout(() => process.off('SIGINT', ignore), left).unref();
    }
  }
}
