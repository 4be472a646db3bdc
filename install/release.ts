/**
 * The release manifests cut from the one install app: what a cluster admin may own separately
 * (the Gateway API CRDs, which GKE and AKS manage themselves; the cluster-wide admission
 * policy) apart from what is tlsgate's own (everything else, our GatewayParameters CRD
 * included: it is versioned and upgraded with the operator).
 */
import { installObjects, type InstallOptions } from './app.js';

export type ReleasePart = 'crds' | 'install' | 'admissionPolicy';

export type ReleaseManifests = Record<ReleasePart, Record<string, any>[]>;

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export function releasePart(object: Record<string, any>): ReleasePart {
  if (object.kind === 'CustomResourceDefinition' && object.spec?.group === GATEWAY_API_GROUP) return 'crds';
  if (object.kind === 'ValidatingAdmissionPolicy' || object.kind === 'ValidatingAdmissionPolicyBinding') return 'admissionPolicy';
  return 'install';
}

export function releaseManifests(options: InstallOptions): ReleaseManifests {
  const parts: ReleaseManifests = { crds: [], install: [], admissionPolicy: [] };
  for (const object of installObjects(options)) parts[releasePart(object)].push(object);
  return parts;
}
