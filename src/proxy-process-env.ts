// The process settings every proxy process runs with (the operator's proxy Deployment, the workers a
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
 * Node flags for every proxy process that relays. Node reads every chunk into a new 64 KiB
 * buffer outside the JS heap; the relay allocates so little on the heap that V8 scavenges
 * rarely, and V8 runs a full mark-compact whenever memory outside the heap has grown by 64 MB
 * (or past a limit that follows the old generation's size): in bulk over one connection that
 * was every 60-75 ms (99-178 in five repetitions on Node 20, 150-190 on Node 24; 0.72-0.79x
 * nginx). --expose-gc gives the relay V8's `gc`, with which proxy/read-buffer-scavenger.ts runs
 * a young-generation collection every 16 MB relayed, so the buffers die young; starting the old
 * generation at 64 MB keeps the limit from following a relay's 8 MB heap. Each alone left slow
 * repetitions in a full benchmark run (Node 24 with the heap flag: 0.76x; Node 20 with the
 * scavenges: 0.67x); docs/performance.md, "What the numbers say". V8 reads both only from the
 * command line: NODE_OPTIONS refuses them, and set at run time they do nothing.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64', '--expose-gc'];

/** The name of a V8/Node flag in `--name=value`, `--name` or `--no-name` form, with V8's `_` spelled `-`. */
function flagName(arg: string): string {
  return arg.split('=', 1)[0]!.replace(/_/g, '-').replace(/^--no-/, '--');
}

/** The flags of PROXY_NODE_FLAGS that `execArgv` lacks; the operator's own value or `--no-` form of the same flag counts as given. */
export function missingProxyNodeFlags(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map(flagName));
  return PROXY_NODE_FLAGS.filter((flag) => !given.has(flagName(flag)));
}

/**
 * The execArgv of a forked proxy worker: the primary's own flags (without the test runner's,
 * which would turn a worker into a test process) and PROXY_NODE_FLAGS where the primary lacks them.
 */
export function proxyWorkerExecArgv(execArgv: readonly string[]): string[] {
  return [...execArgv.filter((arg) => !arg.startsWith('--test')), ...missingProxyNodeFlags(execArgv)];
}

/** What a process was started with: `process` itself, or a stand-in in tests. */
export interface ProcessStart {
  env: NodeJS.ProcessEnv;
  execArgv: readonly string[];
  /** process.argv: the node binary, the script, its arguments. */
  argv: readonly string[];
}

/**
 * What a one-process proxy (`--workers 1`, the relay in the process itself) says at start when it
 * runs without the process settings it relays best with: glibc reads GLIBC_TUNABLES and V8 its
 * heap flags only when a process starts, so the process cannot give them to itself (forked
 * workers get both from the primary, the Deployment sets both on the container). Undefined when
 * nothing needs saying: both are present (or values of the operator's own), or there are workers.
 * The allocator setting is asked for only on glibc (musl and other systems ignore it).
 */
export function missingProcessSettingsNotice(
  proc: ProcessStart,
  workers: number,
  glibc: boolean = runsOnGlibc(),
): string | undefined {
  if (workers > 1) return undefined;
  const allocatorMissing = glibc && proc.env.GLIBC_TUNABLES === undefined;
  const flagsMissing = missingProxyNodeFlags(proc.execArgv);
  if (!allocatorMissing && flagsMissing.length === 0) return undefined;
  const what: string[] = [];
  if (allocatorMissing) what.push(`GLIBC_TUNABLES (glibc's default heap trimming cost up to twice the CPU per byte with many streams)`);
  if (flagsMissing.length > 0) what.push(`node ${flagsMissing.join(' ')} (without them, the relay's dead read buffers set off a V8 full mark-compact every 60-75 ms in bulk over one connection)`);
  // This very command line, with what it lacks: ready to paste.
  const command = [
    ...(allocatorMissing ? [`GLIBC_TUNABLES=${PROXY_GLIBC_TUNABLES}`] : []),
    'node',
    ...proc.execArgv,
    ...flagsMissing,
    ...proc.argv.slice(1),
  ].map(shellWord).join(' ');
  return (
    `this one-process proxy runs without ${what.join(' and without ')}; ` +
    `start it as \`${command}\` (docs/proxy.md, "Process settings")`
  );
}

/** A word as a POSIX shell reads it back: bare when it is safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** True on Linux with glibc (musl and other systems ignore GLIBC_TUNABLES). */
function runsOnGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return typeof header?.glibcVersionRuntime === 'string';
}
