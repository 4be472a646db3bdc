/**
 * Which routes a convergence run changes, in order. `create`: a new TLSRoute per change, for
 * a new hostname, taking the listeners in turn and both backends on each listener. `switch`:
 * a pool of up to 10 routes set up first (all on the first backend), each change pointing the
 * next route of the pool at the other backend.
 */
import { BACKENDS, DOMAIN, LISTENERS, type BackendName, type ListenerMode, type RouteSpec } from './setup.js';

export type ChangeKind = 'create' | 'switch';

export interface PlanOptions {
  changes: number;
  kind: ChangeKind;
  /** Listeners in the order changes take them. */
  modes: ListenerMode[];
}

const otherBackend = (backend: BackendName): BackendName => (backend === BACKENDS[0] ? BACKENDS[1] : BACKENDS[0]);

/** `initial`: routes set up before timing starts; `changes`: each change's route as it should be after it. */
export function plannedRoutes(options: PlanOptions): { initial: RouteSpec[]; changes: RouteSpec[] } {
  const mode = (i: number): ListenerMode => options.modes[i % options.modes.length]!;
  if (options.kind === 'create') {
    const changes = Array.from({ length: options.changes }, (_, i): RouteSpec => ({
      name: `n-${i + 1}`,
      hostname: `n-${i + 1}.${DOMAIN}`,
      listener: LISTENERS[mode(i)],
      // Both backends on both listeners: alternate the backend every full round of listeners.
      backend: BACKENDS[Math.floor(i / options.modes.length) % BACKENDS.length]!,
    }));
    return { initial: [], changes };
  }
  const poolSize = Math.min(options.changes, 10);
  const initial = Array.from({ length: poolSize }, (_, i): RouteSpec => ({
    name: `s-${i + 1}`,
    hostname: `s-${i + 1}.${DOMAIN}`,
    listener: LISTENERS[mode(i)],
    backend: BACKENDS[0],
  }));
  const current = initial.map((r) => ({ ...r }));
  const changes: RouteSpec[] = [];
  for (let i = 0; i < options.changes; i++) {
    const route = current[i % poolSize]!;
    route.backend = otherBackend(route.backend);
    changes.push({ ...route });
  }
  return { initial, changes };
}
