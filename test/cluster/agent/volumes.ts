// Materializes a pod's volumes under its directory on the host and keeps Secret, ConfigMap,
// projected and downward-API volumes current (re-read on every sync, rewritten atomically
// only when the content changed; service-account tokens renewed at 80% of their lifetime).
import { mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { writeAtomically, type VolumeFile } from './atomic-dir.js';
import { fieldRefValue } from './env.js';

export class VolumeError extends Error {}

export interface VolumeApi {
  readSecret: (name: string) => Promise<k8s.V1Secret | undefined>;
  readConfigMap: (name: string) => Promise<k8s.V1ConfigMap | undefined>;
  requestToken: (serviceAccount: string, audiences: string[] | undefined, expirationSeconds: number) => Promise<{ token: string; expiresAt: Date }>;
}

interface KeyToPath { key: string; path: string; mode?: number }

function decode(data: Record<string, string> | undefined): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

function selectItems(what: string, data: Record<string, Buffer>, items: KeyToPath[] | undefined, mode: number, optional: boolean): VolumeFile[] {
  if (!items || items.length === 0) return Object.entries(data).map(([key, content]) => ({ path: key, content, mode }));
  const files: VolumeFile[] = [];
  for (const item of items) {
    const content = data[item.key];
    if (content === undefined) {
      if (optional) continue;
      throw new VolumeError(`${what} has no key "${item.key}"`);
    }
    files.push({ path: item.path, content, mode: item.mode ?? mode });
  }
  return files;
}

export class PodVolumes {
  private readonly written = new Map<string, string>();
  private readonly tokens = new Map<string, { token: string; renewAt: number }>();

  constructor(
    private readonly pod: k8s.V1Pod,
    private readonly root: string,
    private readonly api: VolumeApi,
    private readonly podIp: string,
    private readonly hostIp: string,
  ) {}

  /** The host directory that backs volume `name`. */
  hostPath(name: string): string {
    const volume = this.pod.spec?.volumes?.find((v) => v.name === name);
    if (volume?.hostPath) return volume.hostPath.path;
    return path.join(this.root, name);
  }

  /** Writes every volume whose content changed; throws VolumeError naming the volume on failure. */
  async sync(): Promise<void> {
    for (const volume of this.pod.spec?.volumes ?? []) {
      try {
        await this.syncVolume(volume);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new VolumeError(`volume "${volume.name}": ${message}`);
      }
    }
  }

  private async syncVolume(volume: k8s.V1Volume): Promise<void> {
    const dir = path.join(this.root, volume.name);
    if (volume.emptyDir) { mkdirSync(dir, { recursive: true }); return; }
    if (volume.hostPath) return;
    let files: VolumeFile[] | undefined;
    if (volume.secret) files = await this.secretFiles(volume.secret.secretName!, volume.secret.items, volume.secret.defaultMode ?? 0o644, volume.secret.optional ?? false);
    else if (volume.configMap) files = await this.configMapFiles(volume.configMap.name!, volume.configMap.items, volume.configMap.defaultMode ?? 0o644, volume.configMap.optional ?? false);
    else if (volume.downwardAPI) files = this.downwardFiles(volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode ?? 0o644);
    else if (volume.projected) files = await this.projectedFiles(volume.projected);
    else throw new VolumeError(`unsupported volume type (supported: secret, configMap, projected, downwardAPI, emptyDir, hostPath)`);
    this.writeIfChanged(volume.name, dir, files);
  }

  private writeIfChanged(name: string, dir: string, files: VolumeFile[]): void {
    const hash = createHash('sha256');
    for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) hash.update(`${f.path}\0${f.mode}\0`).update(f.content).update('\0');
    const digest = hash.digest('hex');
    if (this.written.get(name) === digest) return;
    writeAtomically(dir, files);
    this.written.set(name, digest);
  }

  private async secretFiles(name: string, items: KeyToPath[] | undefined, mode: number, optional: boolean): Promise<VolumeFile[]> {
    const secret = await this.api.readSecret(name);
    if (!secret) {
      if (optional) return [];
      throw new VolumeError(`secret "${this.pod.metadata?.namespace}/${name}" not found`);
    }
    return selectItems(`secret "${name}"`, decode(secret.data), items, mode, optional);
  }

  private async configMapFiles(name: string, items: KeyToPath[] | undefined, mode: number, optional: boolean): Promise<VolumeFile[]> {
    const cm = await this.api.readConfigMap(name);
    if (!cm) {
      if (optional) return [];
      throw new VolumeError(`configmap "${this.pod.metadata?.namespace}/${name}" not found`);
    }
    const data: Record<string, Buffer> = { ...decode(cm.binaryData) };
    for (const [k, v] of Object.entries(cm.data ?? {})) data[k] = Buffer.from(v, 'utf8');
    return selectItems(`configmap "${name}"`, data, items, mode, optional);
  }

  private downwardFiles(items: k8s.V1DownwardAPIVolumeFile[], mode: number): VolumeFile[] {
    return items.map((item) => {
      if (!item.fieldRef) throw new VolumeError(`downwardAPI item "${item.path}": only fieldRef is supported`);
      const fieldPath = item.fieldRef.fieldPath;
      // Whole label/annotation maps are written as key="value" lines, like the kubelet.
      const value = fieldPath === 'metadata.labels' || fieldPath === 'metadata.annotations'
        ? Object.entries((fieldPath === 'metadata.labels' ? this.pod.metadata?.labels : this.pod.metadata?.annotations) ?? {})
          .sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n')
        : fieldRefValue(this.pod, fieldPath, this.podIp, this.hostIp);
      return { path: item.path, content: Buffer.from(value), mode: item.mode ?? mode };
    });
  }

  private async projectedFiles(projected: k8s.V1ProjectedVolumeSource): Promise<VolumeFile[]> {
    const mode = projected.defaultMode ?? 0o644;
    const files: VolumeFile[] = [];
    for (const source of projected.sources ?? []) {
      if (source.secret) files.push(...await this.secretFiles(source.secret.name!, source.secret.items, mode, source.secret.optional ?? false));
      else if (source.configMap) files.push(...await this.configMapFiles(source.configMap.name!, source.configMap.items, mode, source.configMap.optional ?? false));
      else if (source.downwardAPI) files.push(...this.downwardFiles(source.downwardAPI.items ?? [], mode));
      else if (source.serviceAccountToken) files.push(await this.tokenFile(source.serviceAccountToken, mode));
      else throw new VolumeError('unsupported projected source (supported: secret, configMap, downwardAPI, serviceAccountToken)');
    }
    return files;
  }

  private async tokenFile(source: k8s.V1ServiceAccountTokenProjection, mode: number): Promise<VolumeFile> {
    const key = `${source.audience ?? ''}|${source.path}`;
    const cached = this.tokens.get(key);
    if (!cached || Date.now() >= cached.renewAt) {
      const seconds = source.expirationSeconds ?? 3600;
      const issued = Date.now();
      const { token, expiresAt } = await this.api.requestToken(this.pod.spec?.serviceAccountName ?? 'default', source.audience ? [source.audience] : undefined, seconds);
      // Renew at 80% of the lifetime, as the kubelet does.
      this.tokens.set(key, { token, renewAt: issued + 0.8 * (expiresAt.getTime() - issued) });
    }
    return { path: source.path, content: Buffer.from(this.tokens.get(key)!.token), mode };
  }
}
