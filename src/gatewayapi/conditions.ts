/**
 * Building status conditions the way Kubernetes controllers must: every condition carries
 * the object's current generation, and `lastTransitionTime` moves only when `status`
 * changes (it is carried over from the object's previous status otherwise).
 */
import type { Condition } from './types.js';

export type ConditionStatus = Condition['status'];

export class ConditionSet {
  private readonly byType = new Map<string, Condition>();

  constructor(
    private readonly generation: number,
    private readonly previous: readonly Condition[] | undefined,
    private readonly now: string,
  ) {}

  set(type: string, status: ConditionStatus, reason: string, message: string): this {
    const before = Array.isArray(this.previous) ? this.previous.find((c) => typeof c === 'object' && c !== null && c.type === type) : undefined;
    const lastTransitionTime =
      before && before.status === status && before.lastTransitionTime ? before.lastTransitionTime : this.now;
    this.byType.set(type, { type, status, reason, message, observedGeneration: this.generation, lastTransitionTime });
    return this;
  }

  get(type: string): Condition | undefined {
    return this.byType.get(type);
  }

  /** The conditions sorted by type, so output order never depends on evaluation order. */
  list(): Condition[] {
    return [...this.byType.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  }
}

/** Generation of an object read from a file is unknown; the API server would assign 1. */
export function generationOf(meta: { generation?: number }): number {
  return typeof meta.generation === 'number' ? meta.generation : 1;
}
