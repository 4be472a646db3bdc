/**
 * The CRD guard for plain manifests, with the chart's rules (install/chart.ts renders the same
 * rules as a Helm template): applying crds.yaml must never replace Gateway API CRDs of another
 * channel, of unknown origin, or of a newer bundle version than ours.
 */
export const CHANNEL_ANNOTATION = 'gateway.networking.k8s.io/channel';
export const BUNDLE_VERSION_ANNOTATION = 'gateway.networking.k8s.io/bundle-version';

export interface CrdSummary {
  name: string;
  annotations: Record<string, string>;
}

export interface ShippedCrds {
  names: string[];
  bundleVersion: string;
  channel: string;
}

const SEMVER = /^v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?/;

/** Negative, zero or positive as a is older, the same as or newer than b (semver, `v` prefix). */
export function compareBundleVersions(a: string, b: string): number {
  const [pa, pb] = [SEMVER.exec(a), SEMVER.exec(b)];
  if (!pa || !pb) throw new Error(`not a bundle version: ${!pa ? a : b}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  // A prerelease is older than its release.
  if (pa[4] === pb[4]) return 0;
  if (pa[4] === undefined) return 1;
  if (pb[4] === undefined) return -1;
  return pa[4] < pb[4] ? -1 : 1;
}

/** One message per CRD in the cluster that crds.yaml must not replace, each saying what to do. */
export function crdConflicts(inCluster: CrdSummary[], shipped: ShippedCrds): string[] {
  const problems: string[] = [];
  for (const crd of inCluster) {
    if (!shipped.names.includes(crd.name)) continue;
    const channel = crd.annotations[CHANNEL_ANNOTATION] ?? '';
    const version = crd.annotations[BUNDLE_VERSION_ANNOTATION] ?? '';
    if (channel !== shipped.channel) {
      problems.push(
        `CRD ${crd.name} in the cluster is Gateway API channel "${channel}" (bundle-version "${version}"), not ${shipped.channel}: ` +
          `do not apply crds.yaml over it. Keep it and apply install.yaml only, or remove those CRDs first (deleting a CRD deletes every object of its kind).`,
      );
    } else if (!SEMVER.test(version)) {
      problems.push(`CRD ${crd.name} in the cluster has no Gateway API bundle-version annotation (found "${version}"): do not apply crds.yaml over CRDs of unknown origin; apply install.yaml only.`);
    } else if (compareBundleVersions(version, shipped.bundleVersion) > 0) {
      problems.push(
        `CRD ${crd.name} in the cluster is Gateway API ${version}, newer than this release's ${shipped.bundleVersion}: ` +
          `do not apply crds.yaml (it would downgrade it). Keep it and apply install.yaml only, or use a tlsgate release built for ${version}.`,
      );
    }
  }
  return problems;
}

/** The one bundle version and channel of the CRDs a release ships (an error if they are mixed). */
export function shippedCrds(crds: Record<string, any>[]): ShippedCrds {
  const versions = new Set(crds.map((crd) => `${crd.metadata.annotations?.[BUNDLE_VERSION_ANNOTATION]}/${crd.metadata.annotations?.[CHANNEL_ANNOTATION]}`));
  if (versions.size !== 1) throw new Error(`crds/: the Gateway API CRDs must be one bundle version and channel, found ${[...versions].join(', ')}`);
  const [bundleVersion, channel] = [...versions][0]!.split('/') as [string, string];
  return { names: crds.map((crd) => crd.metadata.name as string), bundleVersion, channel };
}
