// The translate → deliver → learn → translate loop that the operator and standalone share.
//
// Both hand translate's proxy configs to a data plane that takes a config atomically: a config
// with one port it cannot bind is refused whole (a NACK naming the ports, or a
// PortsUnavailableError). So both plan with the ports already known to be unavailable, deliver,
// and when the delivery names more such ports, plan again without them and deliver that, so the
// rest of each Gateway is served. Once delivered, translate runs one last time with what the
// data plane really serves, which is what the statuses must say.
//
// The steps are parameters because what differs is how a config is delivered and how a refusal
// is learned (config server and NACKs with a backoff in the operator; runtime.apply and its
// error in standalone). Keeping this loop free of both keeps src/ free of servers and clients.
import type { TranslateInput } from './gatewayapi/translate.js';

/** translate's `unavailablePorts`: Gateway "namespace/name" → listener port → why. */
export type UnavailablePorts = NonNullable<TranslateInput['unavailablePorts']>;

/** What one delivery found out. */
export interface Delivered {
  /** The delivery named ports not known before to be unavailable: plan again without them. */
  learnedUnavailablePorts: boolean;
}

export interface ConvergeSteps<Plan, Delivery extends Delivered, Settled> {
  /**
   * How many times a delivery that learned unavailable ports may be followed by a new plan. A
   * bound, because each new plan depends on a data plane's answer that could keep changing.
   */
  maxReplans: number;
  /** The ports known to be unavailable now; asked before every plan, after each delivery learned. */
  unavailablePorts(): UnavailablePorts;
  /** translate for delivery, with those ports' listeners left out. */
  plan(unavailablePorts: UnavailablePorts): Plan;
  /**
   * Hands the plan to the data plane. `replanAllowed` is false on the last delivery the bound
   * allows: what it learns then is not planned for now (the caller keeps it for next time, or
   * isolates the refusal itself).
   */
  deliver(plan: Plan, attempt: { round: number; replanAllowed: boolean }): Promise<Delivery>;
  /** The final translate, with what the data plane serves after the last delivery. */
  settle(last: { plan: Plan; delivery: Delivery; unavailablePorts: UnavailablePorts; rounds: number }): Settled;
}

/** Plans, delivers and replans until a delivery learns nothing new (or the bound), then settles. */
export async function converge<Plan, Delivery extends Delivered, Settled>(steps: ConvergeSteps<Plan, Delivery, Settled>): Promise<Settled> {
  for (let round = 0; ; round++) {
    const unavailablePorts = steps.unavailablePorts();
    const plan = steps.plan(unavailablePorts);
    const replanAllowed = round < steps.maxReplans;
    const delivery = await steps.deliver(plan, { round, replanAllowed });
    if (!replanAllowed || !delivery.learnedUnavailablePorts) {
      return steps.settle({ plan, delivery, unavailablePorts, rounds: round + 1 });
    }
  }
}
