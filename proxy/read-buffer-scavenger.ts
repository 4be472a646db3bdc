// Frees the relay's dead read buffers with V8's young-generation collector before they pile up
// into a full collection.
//
// Node reads every chunk into a new 64 KiB ArrayBuffer whose memory lives outside the JS heap.
// A dead buffer is freed only by a garbage collection: cheaply by a scavenge while it is young.
// But V8 schedules scavenges by how much the JS heap allocates, and the relay allocates very
// little there per chunk, so at about 1 GB/s tens of megabytes of dead buffers build up between
// two scavenges. V8 starts a full mark-compact whenever memory outside the heap has grown by
// 64 MB since the last one ("external memory pressure"): measured on Node 24, 150-190 of them in
// five repetitions of bulk over one connection, 0.74-0.76x nginx; on Node 20 the same with a
// small old generation (docs/performance.md, "What the numbers say"). Asking for a scavenge after
// every SCAVENGE_EVERY_BYTES relayed keeps the dead buffers young and few: with it and
// --initial-old-space-size=64, 3-5 mark-compacts, and 1.03x (Node 20) and 0.96x (Node 24) nginx
// in the final benchmark runs. Each requested scavenge is a short pause (median 0.4 ms, 90th
// percentile 0.7-3 ms in the --trace-gc runs), and idle connections cost nothing: it is counted
// in bytes, not time.
//
// It needs `gc`, which V8 exposes only with --expose-gc on the command line (PROXY_NODE_FLAGS);
// without it this does nothing, and a one-process proxy says at start that the flag is missing.

/** Bytes relayed between two requested scavenges: well below V8's 64 MB external-memory step. */
export const SCAVENGE_EVERY_BYTES = 16 * 1024 * 1024;

const collectGarbage = typeof globalThis.gc === 'function' ? globalThis.gc : undefined;
let relayedSinceScavenge = 0;
let requested = 0;

/** Counts `bytes` read by the relay; every SCAVENGE_EVERY_BYTES, runs a young-generation collection. */
export function countRelayedBytes(bytes: number): void {
  relayedSinceScavenge += bytes;
  if (relayedSinceScavenge < SCAVENGE_EVERY_BYTES) return;
  relayedSinceScavenge = 0;
  if (collectGarbage === undefined) return;
  requested++;
  collectGarbage({ type: 'minor' });
}

/** Whether this process can run the scavenges (started with --expose-gc), and how many it ran. */
export function scavengerState(): { enabled: boolean; scavenges: number } {
  return { enabled: collectGarbage !== undefined, scavenges: requested };
}
