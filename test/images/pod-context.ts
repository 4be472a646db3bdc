// What the test backends report about where they run, from the env the conformance
// manifests set through the downward API (POD_NAME, NAMESPACE, ...).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PodContext {
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
}

export function podContext(env: NodeJS.ProcessEnv = process.env): PodContext {
  return {
    namespace: env.NAMESPACE ?? '',
    ingress: env.INGRESS_NAME ?? '',
    service: env.SERVICE_NAME ?? '',
    pod: env.POD_NAME ?? '',
  };
}

/** A port from the environment, or `fallback`; rejects anything but a TCP port number. */
export function envPort(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name}="${raw}" is not a TCP port number`);
  return port;
}

/** True when `moduleUrl` is the script node was started with (the image's entrypoint). */
export function isEntrypoint(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === path.resolve(process.argv[1]);
}

/** Closes the servers on SIGTERM/SIGINT and exits, like a well-behaved container. */
export function exitOnSignals(close: () => Promise<void>): void {
  const stop = (): void => { void close().finally(() => process.exit(0)); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
