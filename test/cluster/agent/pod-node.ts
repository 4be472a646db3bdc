// Which Node binary the pods run: the image's `node`. By default the agent's own
// (process.execPath); `npm run cluster:up -- --node PATH` starts the agent with `--pod-node PATH`
// so that the operator and the proxies can be tested on the Node the container image ships
// (24) while the harness itself stays on the Node that started it.
import path from 'node:path';

let podNode = process.execPath;

export function podNodeBinary(): string {
  return podNode;
}

export function setPodNodeBinary(binary: string): void {
  if (!path.isAbsolute(binary)) throw new Error(`--pod-node must be an absolute path, got "${binary}"`);
  podNode = binary;
}

/**
 * The containers' PATH: in an image, `node` on PATH is the image's Node, so the pod Node's
 * directory comes first (covers `command: ["node", ...]` and `sh -c "node ..."`). Unchanged
 * when the pods run the agent's own Node.
 */
export function containerPath(agentPath: string): string {
  if (podNode === process.execPath) return agentPath;
  return `${path.dirname(podNode)}:${agentPath}`;
}
