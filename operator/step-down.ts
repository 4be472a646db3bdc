/**
 * What a replica does after losing the Lease: drop the config-server leader label from its
 * pod, then hand its proxies over (restart its config server, so they reconnect through the
 * Service to whoever carries the label).
 *
 * Order and persistence both matter. A replica usually loses the Lease because it could not
 * reach the API server (renew deadline), and then the label cannot be removed either. Handing
 * over at once would only bring the proxies straight back (the Service still selects this
 * pod); giving up on the label would leave two labelled pods once the other replica leads, and
 * proxies connected to this follower forever, so the leader would never see their ACKs. So:
 * retry the removal with backoff until it succeeds, and only then hand over; stop if this
 * replica leads again (nothing to hand over) or is stopping.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface StepDownActions {
  /** Removes the label; resolves false when that failed (e.g. the API server is away). */
  removeLeaderLabel(): Promise<boolean>;
  /** Makes connected proxies reconnect (through the Service). */
  handOverProxies(): Promise<void>;
  /** False once this replica leads again or is stopping: the step-down is then abandoned. */
  stillFollowing(): boolean;
}

/** Retry delays: 1 s doubling to 10 s (the API server's return is noticed within 10 s). */
export const stepDownDelayMs = (attempt: number): number => Math.min(1000 * 2 ** attempt, 10_000);

/** Returns 'handed-over', or 'abandoned' when stillFollowing() turned false first. */
export async function stepDown(actions: StepDownActions, delayMs: (attempt: number) => number = stepDownDelayMs): Promise<'handed-over' | 'abandoned'> {
  for (let attempt = 0; ; attempt++) {
    if (!actions.stillFollowing()) return 'abandoned';
    if (await actions.removeLeaderLabel()) break;
    await sleep(delayMs(attempt));
  }
  if (!actions.stillFollowing()) return 'abandoned';
  await actions.handOverProxies();
  return 'handed-over';
}
