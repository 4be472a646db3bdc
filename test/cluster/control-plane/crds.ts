// Installs the Gateway API CRDs (and any tlsgate.dev CRDs) from crds/, then the
// safe-upgrades ValidatingAdmissionPolicy, with server-side apply so re-running is harmless.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { waitFor } from './wait.js';

const fieldManager = 'tlsgate-cluster-up';

export function crdFiles(crdsDir: string): { crds: string[]; policies: string[] } {
  const files = readdirSync(crdsDir).filter((f) => f.endsWith('.yaml')).sort();
  const isPolicy = (f: string): boolean => f.includes('_vap_');
  const wanted = files.filter((f) => f.startsWith('gateway.networking.k8s.io_') || f.startsWith('tlsgate.dev_'));
  return {
    crds: wanted.filter((f) => !isPolicy(f)).map((f) => path.join(crdsDir, f)),
    policies: wanted.filter(isPolicy).map((f) => path.join(crdsDir, f)),
  };
}

async function applyFile(objects: k8s.KubernetesObjectApi, file: string): Promise<k8s.KubernetesObject[]> {
  const docs = k8s.loadAllYaml(readFileSync(file, 'utf8')) as k8s.KubernetesObject[];
  const applied: k8s.KubernetesObject[] = [];
  for (const doc of docs.filter((d) => d && d.kind)) {
    try {
      applied.push(await objects.patch(doc, undefined, undefined, fieldManager, true, k8s.PatchStrategy.ServerSideApply));
    } catch (error) {
      const body = (error as { body?: unknown }).body;
      throw new Error(`applying ${doc.kind} ${doc.metadata?.name} from ${path.basename(file)} failed: ${typeof body === 'string' ? body : String(error)}`);
    }
  }
  return applied;
}

export async function installCrds(kc: k8s.KubeConfig, crdsDir: string, timeoutMs = 60_000): Promise<string[]> {
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  const { crds, policies } = crdFiles(crdsDir);
  const names: string[] = [];
  for (const file of crds) {
    for (const obj of await applyFile(objects, file)) names.push(obj.metadata!.name!);
  }
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  for (const name of names) {
    await waitFor(`CustomResourceDefinition ${name} to be Established`, timeoutMs, async () => {
      const crd = await ext.readCustomResourceDefinition({ name });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
  }
  for (const file of policies) {
    for (const obj of await applyFile(objects, file)) names.push(`${obj.kind}/${obj.metadata!.name!}`);
  }
  return names;
}
