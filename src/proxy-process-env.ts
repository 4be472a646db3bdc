// The environment every proxy process runs with (the operator's proxy Deployment, the workers a
// proxy forks, the benchmark's tlsgate), shared here so that all of them say the same.

/**
 * glibc's malloc hands the top of its heap back to the kernel (brk) whenever more than
 * M_TRIM_THRESHOLD is free there (128 KiB by default). A relay allocates a 64 KiB read buffer per
 * chunk and connection; with many connections streaming, the heap top moved up and down by
 * several buffers, so the pages of new buffers were faulted in and zeroed again and again:
 * measured on 16-connection passthrough bulk, 5.4 page faults and 0.11 brk calls per read in
 * that state against 0.3 faults without it, and about twice the CPU per byte; whether a run fell
 * into it depended on where the buffers landed in the heap (docs/performance.md, "What the
 * numbers say"). Keeping up to 32 MiB free at the top ends it, at the cost of not
 * returning that much freed memory to the kernel.
 */
export const PROXY_GLIBC_TUNABLES = 'glibc.malloc.trim_threshold=33554432';

/** GLIBC_TUNABLES for a proxy process: an operator-chosen value in `env` wins over ours. */
export function proxyGlibcTunables(env: NodeJS.ProcessEnv): string {
  return env.GLIBC_TUNABLES ?? PROXY_GLIBC_TUNABLES;
}
