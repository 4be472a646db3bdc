/**
 * What a replica does while it follows (from its start, and after losing the Lease): drop the
 * config-server leader label from its pod, then keep its proxies handed over to the leader
 * (restart its config server whenever proxies are connected to it, so they reconnect through
 * the Service to whoever carries the label).
 *
 * Order and persistence both matter. A replica usually loses the Lease because it could not
 * reach the API server (renew deadline), and then the label cannot be removed either. Handing
 * over at once would only bring the proxies straight back (the Service still selects this
 * pod); giving up on the label would leave two labelled pods once the other replica leads.
 * And a handover right after the label is removed can still land the proxies here, on
 * endpoints not yet updated (EndpointSlice → kube-proxy takes a moment). A proxy that stays
 * connected to a follower is invisible to the leader: its ACKs never make the Gateway
 * Programmed. So: retry the removal with backoff until it succeeds, then check every few
 * seconds for proxies connected here and hand them over again. Ends when this replica
 * leads again or stops (`stillFollowing()` false).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface StepDownActions {
  /** Removes the label; resolves false when that failed (e.g. the API server is away). */
  removeLeaderLabel(): Promise<boolean>;
  /** Whether any proxy is connected to this replica's config server. */
  proxiesConnected(): boolean;
  /** Makes connected proxies reconnect (through the Service). */
  handOverProxies(): Promise<void>;
  /** False once this replica leads again or is stopping: the step-down then ends. */
  stillFollowing(): boolean;
}

export interface StepDownTiming {
  /** Delay before the next label removal attempt. */
  retryMs: (attempt: number) => number;
  /** How often a follower checks for proxies connected to it. */
  checkMs: number;
}

/** Label retries 1 s doubling to 10 s (the API server's return is noticed within 10 s); checks every 3 s. */
export const stepDownTiming: StepDownTiming = {
  retryMs: (attempt) => Math.min(1000 * 2 ** attempt, 10_000),
  checkMs: 3000,
};

/** Runs while this replica follows; resolves once it leads again or stops. Returns the handovers made. */
export async function stepDown(actions: StepDownActions, timing: StepDownTiming = stepDownTiming): Promise<number> {
  if (!(await retryWhile(() => actions.removeLeaderLabel(), () => actions.stillFollowing(), timing.retryMs))) return 0;
  let handovers = 0;
  while (actions.stillFollowing()) {
    if (actions.proxiesConnected()) {
      await actions.handOverProxies();
      handovers++;
    }
    await sleep(timing.checkMs);
  }
  return handovers;
}

/** Retries `step` (false = failed) with the same backoff while `wanted()` holds. */
export async function retryWhile(step: () => Promise<boolean>, wanted: () => boolean, retryMs: (attempt: number) => number = stepDownTiming.retryMs): Promise<boolean> {
  for (let attempt = 0; wanted(); attempt++) {
    if (await step()) return true;
    await sleep(retryMs(attempt));
  }
  return false;
}
