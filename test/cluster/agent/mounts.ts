// Puts volumes where the container expects them: each container runs in a private mount
// namespace (`unshare --mount --propagation private`) whose start-up script bind-mounts the
// volume directories over the container's mountPaths, then execs the real command. The host
// never sees these mounts; it only gets empty mount-point directories (or files) where none
// existed, which are recorded and removed by cluster:down.
import { existsSync, mkdirSync, appendFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { createdMountPointsPath } from '../state.js';

export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** Volume types the kubelet always mounts read-only. */
const readOnlyKinds = ['secret', 'configMap', 'projected', 'downwardAPI'] as const;

export function containerMounts(pod: k8s.V1Pod, container: k8s.V1Container, hostPathOf: (volume: string) => string, hostsFile: string): BindMount[] {
  const mounts: BindMount[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.spec?.volumes?.find((v) => v.name === mount.name);
    if (!volume) throw new Error(`volumeMount "${mount.name}" of container "${container.name}" names no volume of the pod`);
    const forcedReadOnly = readOnlyKinds.some((kind) => volume[kind] !== undefined);
    const base = hostPathOf(mount.name);
    mounts.push({
      source: mount.subPath ? path.join(base, mount.subPath) : base,
      target: mount.mountPath,
      readOnly: forcedReadOnly || (mount.readOnly ?? false),
    });
  }
  // Services resolve by name through a per-pod hosts file (there is no cluster DNS).
  if (!mounts.some((m) => m.target === '/etc/hosts')) mounts.push({ source: hostsFile, target: '/etc/hosts', readOnly: true });
  return mounts;
}

/** Creates missing mount points on the host (recording them), matching the source's kind. */
export function ensureMountPoints(mounts: BindMount[]): void {
  for (const mount of mounts) {
    if (existsSync(mount.target)) continue;
    const isDir = !existsSync(mount.source) || statSync(mount.source).isDirectory();
    const created: string[] = [];
    let dir = isDir ? mount.target : path.dirname(mount.target);
    while (!existsSync(dir)) { created.unshift(dir); dir = path.dirname(dir); }
    for (const d of created) { mkdirSync(d); appendFileSync(createdMountPointsPath, `d ${d}\n`); }
    if (!isDir) { writeFileSync(mount.target, ''); appendFileSync(createdMountPointsPath, `f ${mount.target}\n`); }
  }
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Where the pod's directory is bind-mounted first inside the container's mount namespace.
 * Every volume source is then taken from there, so that a mountPath which happens to cover
 * the checkout (say `/work` over `/work/main/.cache/...`) cannot hide the sources of the
 * mounts that follow it. A top-level dot name no container would mount over.
 */
export const stagingPoint = '/.tlsgate-agent-pod';

/**
 * The /bin/sh script run inside the new mount namespace before exec'ing the container command.
 * Sources outside `podDir` (hostPath volumes) are first staged under `podDir/hostpaths/<i>`.
 */
export function mountScript(mounts: BindMount[], podDir: string): string {
  const lines = ['set -e', `mount --bind ${quote(podDir)} ${quote(stagingPoint)}`];
  const staged = mounts.map((m, i) => {
    if (m.source === podDir || m.source.startsWith(`${podDir}/`)) return `${stagingPoint}${m.source.slice(podDir.length)}`;
    const point = path.join(podDir, 'hostpaths', String(i));
    if (!existsSync(point)) {
      mkdirSync(path.dirname(point), { recursive: true });
      if (existsSync(m.source) && !statSync(m.source).isDirectory()) writeFileSync(point, ''); else mkdirSync(point);
    }
    lines.push(`mount --bind ${quote(m.source)} ${quote(`${stagingPoint}/hostpaths/${i}`)}`);
    return `${stagingPoint}/hostpaths/${i}`;
  });
  mounts.forEach((m, i) => {
    lines.push(`mount --bind ${quote(staged[i]!)} ${quote(m.target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${quote(m.target)}`);
  });
  // The mounts made from the staging point stay; the staging point itself goes.
  lines.push(`umount -l ${quote(stagingPoint)}`, 'exec "$@"');
  return lines.join('\n');
}
