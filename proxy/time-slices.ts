// Work that grows with a config (validating and compiling 50,000 routes takes most of a second on
// a busy machine) written as a generator that yields between small steps, so that one process can
// run it in slices between its connections' events instead of stopping them all for the whole of
// it. finish() runs the same steps in one go, where nothing else waits (tests, the primary).

/** How long one slice may hold the event loop before the connections get a turn. */
export const SLICE_MS = 5;

export type Steps<T> = Generator<void, T, void>;

/** Runs every step now. */
export function finish<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** Runs the steps in slices of about `sliceMs`, with a turn of the event loop (I/O included) between two. */
export async function inSlices<T>(steps: Steps<T>, sliceMs = SLICE_MS): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    if (performance.now() - sliceStart < sliceMs) continue;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  }
}
