/**
 * Runs an async job after a burst of triggers has settled: triggers within `delayMs` of
 * each other coalesce into one run, a steady stream cannot postpone it beyond `maxDelayMs`,
 * runs never overlap, and a trigger during a run schedules exactly one more run after it,
 * `delayMs` after that trigger (at once when the run outlasted the quiet time).
 */
export interface CoalescerOptions {
  delayMs: number;
  maxDelayMs: number;
  onError: (err: unknown) => void;
  /** Each run's start, with how long its burst's first trigger waited for it. */
  onStart?: (waitedMs: number) => void;
}

export class Coalescer {
  private timer: NodeJS.Timeout | undefined;
  private firstTriggerAt: number | undefined;
  private lastTriggerAt = 0;
  private running: Promise<void> | undefined;
  private pendingWhileRunning = false;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly job: () => Promise<void>,
    private readonly options: CoalescerOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  trigger(): void {
    if (this.stopped) return;
    const now = this.clock();
    this.firstTriggerAt ??= now;
    this.lastTriggerAt = now;
    if (this.running) {
      this.pendingWhileRunning = true;
      return;
    }
    this.schedule(now);
  }

  /**
   * The quiet time counts from the last trigger, also when that trigger came during a run:
   * a run that outlasted it (an API round trip is often longer than the debounce) is followed
   * at once, not after another full delay.
   */
  private schedule(now: number): void {
    const quietAt = this.lastTriggerAt + this.options.delayMs;
    const deadline = (this.firstTriggerAt ?? now) + this.options.maxDelayMs;
    const delay = Math.max(0, Math.min(quietAt, deadline) - now);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.runNow(), delay);
  }

  /** Runs waiting or in progress: at most 2 (one running, one more asked for). */
  get depth(): number {
    return (this.running ? 1 : 0) + (this.timer || this.pendingWhileRunning ? 1 : 0);
  }

  /** Resolves when no run is scheduled or in progress. */
  idle(): Promise<void> {
    if (!this.running && !this.timer) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private runNow(): void {
    this.timer = undefined;
    if (this.firstTriggerAt !== undefined) this.options.onStart?.(this.clock() - this.firstTriggerAt);
    this.firstTriggerAt = undefined;
    // `running` must be set before the job starts: a job that triggers before its first await
    // (the operator's publish emits the config server's status event synchronously) has to
    // find the coalescer busy, or it would schedule a second run overlapping this one.
    this.running = (async () => {
      await Promise.resolve();
      try {
        await this.job();
      } catch (err) {
        this.options.onError(err);
      }
    })();
    void this.running.then(() => {
      this.running = undefined;
      if (this.pendingWhileRunning && !this.stopped) {
        this.pendingWhileRunning = false;
        this.schedule(this.clock());
      } else if (!this.timer) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
    });
  }
}
