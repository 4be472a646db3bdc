/**
 * Reconciling again after failed writes, as controller-runtime requeues: a reconcile whose
 * status or infrastructure writes failed (an API server that refused or was away) is followed by
 * another after an exponential backoff with jitter, instead of waiting for the next change or the
 * full resync; the first reconcile with no failed write resets the backoff.
 */
import { Backoff } from './sources/backoff.js';

export interface WriteRetryOptions {
  /** Asks for the reconcile (coalesced with any other). */
  trigger: () => void;
  /** Told of each retry scheduled: what failed and the delay (for the metric and the log). */
  onRetry: (failed: string[], delayMs: number) => void;
  backoff?: Backoff;
}

export class WriteRetry {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly backoff: Backoff;

  constructor(private readonly options: WriteRetryOptions) {
    // 1 s doubling to 5 min, half of each delay random.
    this.backoff = options.backoff ?? new Backoff(1000, 5 * 60_000);
  }

  /** After each reconcile: what it failed to write (empty when everything was written). */
  settled(failed: string[]): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (failed.length === 0) {
      this.backoff.reset();
      return;
    }
    if (this.stopped) return;
    const delayMs = this.backoff.next();
    this.options.onRetry(failed, delayMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.options.trigger();
    }, delayMs);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
