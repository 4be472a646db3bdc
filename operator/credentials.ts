/**
 * The Kubernetes side of config-delivery credentials (the CA arithmetic is operator/ca.ts):
 * the CA Secret in the operator's namespace, the config server's own certificate, and each
 * Gateway's proxy client-certificate Secret. Key material only ever goes into Secrets and
 * the in-memory TLS context; logs name Secrets and reasons, never contents.
 */
import { X509Certificate } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import {
  authorityStateFromSecretData,
  authorityStateToSecretData,
  gatewayClientSecretData,
  gatewayIdentityUri,
  issueGatewayClientCertificate,
  issueServerCertificate,
  needsRenewal,
  reconcileAuthorities,
  trustBundlePem,
  type AuthorityState,
  type IssuedCertificate,
} from './ca.js';
import { statusOf } from './sources/informer.js';
import type { KubeObject } from './objects.js';

export const CA_SECRET_NAME = 'tlsgate-ca';

export interface SecretLike extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

function decode(data: Record<string, string> | undefined, key: string): string | undefined {
  const value = data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

/** Reads and (as leader) maintains the CA Secret. */
export class CaSecretStore {
  private readonly core: k8s.CoreV1Api;

  constructor(kubeConfig: k8s.KubeConfig, private readonly namespace: string, private readonly log: (message: string) => void) {
    this.core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  }

  /** The CA state from the Secret, creating the Secret when there is none (any replica may). */
  async loadOrCreate(now: Date): Promise<AuthorityState> {
    try {
      const secret = await this.core.readNamespacedSecret({ name: CA_SECRET_NAME, namespace: this.namespace });
      return authorityStateFromSecretData(secret.data, `Secret ${this.namespace}/${CA_SECRET_NAME}`);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    const state = reconcileAuthorities(undefined, now).state;
    try {
      await this.core.createNamespacedSecret({
        namespace: this.namespace,
        body: {
          metadata: { name: CA_SECRET_NAME, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'tlsgate', 'app.kubernetes.io/component': 'ca' } },
          type: 'Opaque',
          data: authorityStateToSecretData(state),
        },
      });
      this.log(`created the CA Secret ${this.namespace}/${CA_SECRET_NAME}`);
      return state;
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
      // Another replica created it between our read and our create: use theirs.
      const secret = await this.core.readNamespacedSecret({ name: CA_SECRET_NAME, namespace: this.namespace });
      return authorityStateFromSecretData(secret.data, `Secret ${this.namespace}/${CA_SECRET_NAME}`);
    }
  }

  /** The state in a cached copy of the CA Secret, or undefined when it is not (yet) valid. */
  stateFrom(secret: SecretLike | undefined): AuthorityState | undefined {
    if (!secret) return undefined;
    try {
      return authorityStateFromSecretData(secret.data, `Secret ${this.namespace}/${CA_SECRET_NAME}`);
    } catch (err) {
      this.log((err as Error).message);
      return undefined;
    }
  }

  /**
   * Leader only: rotate or prune authorities when due, written back with the resourceVersion
   * we read (a concurrent change makes it a 409 and the next reconcile tries again).
   */
  async maintain(secret: SecretLike, now: Date, liveLeaves: string[]): Promise<AuthorityState | undefined> {
    const state = this.stateFrom(secret);
    const result = reconcileAuthorities(state, now, undefined, liveLeaves);
    if (!result.changed) return undefined;
    await this.core.replaceNamespacedSecret({
      name: CA_SECRET_NAME,
      namespace: this.namespace,
      body: {
        metadata: { ...(secret.metadata as k8s.V1ObjectMeta), name: CA_SECRET_NAME, namespace: this.namespace },
        type: secret.type ?? 'Opaque',
        data: authorityStateToSecretData(result.state),
      },
    });
    this.log(`CA Secret ${this.namespace}/${CA_SECRET_NAME} updated: ${result.reasons.join('; ')}`);
    return result.state;
  }
}

/**
 * The `data` of a Gateway's client-certificate Secret: the existing one when it is still
 * good (right identity, current bundle, not due for renewal), else a freshly issued one.
 */
export function clientSecretData(
  existing: SecretLike | undefined,
  gateway: { namespace: string; name: string },
  state: AuthorityState,
  now: Date,
): { data: Record<string, string>; reissued: string | undefined } {
  const certificatePem = decode(existing?.data, 'tls.crt');
  const bundle = decode(existing?.data, 'ca.crt');
  let reason: string | undefined = certificatePem ? undefined : 'missing';
  if (!reason && !decode(existing?.data, 'tls.key')) reason = 'missing key';
  if (!reason && bundle !== trustBundlePem(state)) reason = 'trust bundle changed';
  if (!reason) {
    try {
      const leaf = new X509Certificate(certificatePem!);
      if (!(leaf.subjectAltName ?? '').split(', ').includes(`URI:${gatewayIdentityUri(gateway)}`)) reason = 'names another gateway';
      else reason = needsRenewal(certificatePem!, state, now) ?? undefined;
    } catch {
      reason = 'unreadable certificate';
    }
  }
  if (!reason) return { data: { ...existing!.data! }, reissued: undefined };
  const issued: IssuedCertificate = issueGatewayClientCertificate(state, gateway, now);
  return { data: gatewayClientSecretData(issued, state), reissued: reason };
}

/** The config server's certificate for the names proxies dial. */
export function serverCertificate(state: AuthorityState, dnsNames: string[], ipAddresses: string[], now: Date): IssuedCertificate {
  return issueServerCertificate(state, { dnsNames, ipAddresses }, now);
}

export { needsRenewal, trustBundlePem };
export type { AuthorityState };
