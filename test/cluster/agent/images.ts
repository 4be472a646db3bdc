// The image table: there is no container runtime, so an image name is mapped to a local
// command. Each entry plays the part of the image's ENTRYPOINT and CMD, with Docker's rules:
// a container `command` replaces the entrypoint, `args` replace the default arguments.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../helpers/paths.js';
import { podNodeBinary } from './pod-node.js';

export interface ImageEntry {
  /** What the table calls this image (shown in imageID). */
  id: string;
  entrypoint: string[];
  defaultArgs: string[];
  /** Maps a container `command` (paths inside the real image) to a local command line. */
  mapCommand?: (command: string[]) => string[];
}

// Built at lookup time, not at import: the agent sets the pods' Node (pod-node.ts) after import.
const testImage = (file: string): string[] => [podNodeBinary(), path.join(projectRoot, 'dist', 'test', 'images', file)];
const tlsgateCli = (): string[] => [podNodeBinary(), path.join(projectRoot, 'bin', 'tlsgate.js')];

/** Where scripts/build-conformance.sh links its current build (a stable name for a hashed directory). */
export const conformanceBinDir = path.join(projectRoot, '.cache', 'bin', 'gateway-api-conformance');

/**
 * A binary of the upstream conformance build, the image's own program compiled from its Go
 * module. Checked at lookup so that a missing build is the pod's ErrImagePull, naming the fix,
 * rather than a container that crashes in a loop.
 */
function conformanceBinary(name: string): string[] {
  const binary = path.join(conformanceBinDir, name);
  if (!existsSync(binary)) {
    throw new UnknownImageError(`the ${name} binary is not built (${binary} is missing); build it with: bash scripts/build-conformance.sh images`);
  }
  return [binary];
}

/**
 * `command: ["tlsgate", ...]` or `["/usr/local/bin/tlsgate", ...]` or `["node", ...nodeFlags,
 * ".../tlsgate.js", ...]`; Node's flags stay Node's flags (the proxy Deployment gives V8 some).
 */
function mapTlsgateCommand(command: string[]): string[] {
  const [first = '', ...rest] = command;
  const base = path.basename(first);
  if (base === 'tlsgate' || base === 'tlsgate.js') return [...tlsgateCli(), ...rest];
  const script = rest.findIndex((arg) => !arg.startsWith('-'));
  if (base === 'node' && script >= 0 && path.basename(rest[script]!).startsWith('tlsgate')) {
    const [node, cli] = tlsgateCli() as [string, string];
    return [node, ...rest.slice(0, script), cli, ...rest.slice(script + 1)];
  }
  throw new Error(`command ${JSON.stringify(command)} is not the tlsgate CLI; the test image table only runs "tlsgate"`);
}

interface TableRow {
  /** Image references that match: exact repository names, compared without tag or digest. */
  repositories: string[];
  /** Made only for the image looked up: a conformance binary that is not built fails that image alone. */
  entry: () => ImageEntry;
}

const table = (): TableRow[] => [
  {
    repositories: ['ghcr.io/tlsgate/tlsgate', 'tlsgate', 'docker.io/library/tlsgate', 'localhost/tlsgate'],
    entry: () => ({ id: 'tlsgate (this checkout: bin/tlsgate.js)', entrypoint: tlsgateCli(), defaultArgs: [], mapCommand: mapTlsgateCommand }),
  },
  {
    // The Gateway API conformance backend: upstream's echo-basic (v1.6.1 module), which picks
    // HTTP/h2c/HTTPS, gRPC, TCP/TLS or UDP from its env, as in the image. The base manifest
    // asks for tags v1.5.1 and v1.6.0-dev.3; one build serves all (the tag is not compared).
    repositories: ['registry.k8s.io/gateway-api/echo-basic', 'gcr.io/k8s-staging-gateway-api/echo-basic'],
    entry: () => ({ id: 'echo-basic (sigs.k8s.io/gateway-api/conformance/echo-basic, scripts/build-conformance.sh)', entrypoint: conformanceBinary('echo-basic'), defaultArgs: [] }),
  },
  {
    // The base manifest's coredns Deployment (UDPRoute tests): CoreDNS v1.12.2 with the
    // plugins its Corefile names (test/conformance/coredns/main.go).
    repositories: ['registry.k8s.io/coredns/coredns'],
    entry: () => ({ id: 'coredns (github.com/coredns/coredns, test/conformance/coredns)', entrypoint: conformanceBinary('coredns'), defaultArgs: [] }),
  },
  {
    repositories: ['tlsgate.test/tcp-echo'],
    entry: () => ({ id: 'tcp-echo (test/images/tcp-echo.ts)', entrypoint: testImage('tcp-echo.js'), defaultArgs: [] }),
  },
  {
    repositories: ['tlsgate.test/tls-echo'],
    entry: () => ({ id: 'tls-echo (test/images/tls-echo.ts)', entrypoint: testImage('tls-echo.js'), defaultArgs: [] }),
  },
  {
    // A do-nothing container (e.g. for volume tests): sleeps until terminated.
    repositories: ['tlsgate.test/pause', 'registry.k8s.io/pause'],
    entry: () => ({ id: 'pause (sleep)', entrypoint: ['sleep', 'infinity'], defaultArgs: [] }),
  },
];

/** Strips `:tag` and `@digest` (a colon in the first path part is a registry port). */
export function repositoryOf(image: string): string {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

export class UnknownImageError extends Error {}

export function lookupImage(image: string): ImageEntry {
  const repository = repositoryOf(image);
  const rows = table();
  const row = rows.find((r) => r.repositories.includes(repository));
  if (!row) {
    const known = rows.flatMap((r) => r.repositories).join(', ');
    throw new UnknownImageError(`image "${image}" is not in the node agent's image table (test/cluster/agent/images.ts); known: ${known}`);
  }
  return row.entry();
}

/** The local argv for a container, following Docker's ENTRYPOINT/CMD rules. */
export function commandLine(entry: ImageEntry, command: string[] | undefined, args: string[] | undefined): string[] {
  if (command && command.length > 0) {
    if (!entry.mapCommand) return [...command, ...(args ?? [])];
    return [...entry.mapCommand(command), ...(args ?? [])];
  }
  return [...entry.entrypoint, ...(args ?? entry.defaultArgs)];
}
