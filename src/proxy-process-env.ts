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

/**
 * What a one-process proxy (`--workers 1`, the relay in the process itself) says at start when it
 * runs without the allocator setting: glibc reads GLIBC_TUNABLES only when a process starts, so
 * the process cannot give it to itself (forked workers get it from the primary, the Deployment
 * sets it on the container). Undefined when nothing needs saying: the setting (or any value the
 * operator chose) is present, there are workers, or the C library is not glibc.
 */
export function missingAllocatorSettingNotice(env: NodeJS.ProcessEnv, workers: number, glibc: boolean = runsOnGlibc()): string | undefined {
  if (workers > 1 || !glibc || env.GLIBC_TUNABLES !== undefined) return undefined;
  return (
    `GLIBC_TUNABLES is not set, so this one-process proxy relays with glibc's default heap trimming, ` +
    `which cost up to twice the CPU per byte with many streams in the benchmark; start it with ` +
    `GLIBC_TUNABLES=${PROXY_GLIBC_TUNABLES} (docs/proxy.md, "Memory allocator setting")`
  );
}

/** True on Linux with glibc (musl and other systems ignore GLIBC_TUNABLES). */
function runsOnGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return typeof header?.glibcVersionRuntime === 'string';
}
