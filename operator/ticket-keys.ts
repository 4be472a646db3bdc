/**
 * Session-ticket keys shared by every replica of a Gateway's proxy. Each proxy pod used to make
 * its own random keys, so a client resumed only when it came back to the same pod; now the
 * operator gives all of a Gateway's proxies the same ring inside their config.
 *
 * One master secret (random, in a Secret of the operator's namespace) and a pure derivation:
 *   key(e) = HKDF-SHA256(master, salt = Gateway UID, info = "tlsgate ticket key " + e)
 * for the rotation period e = floor(now / period). Every operator replica reads the same
 * Secret, so a leader change (or a proxy served by another replica) changes no key; the
 * Gateway's UID as salt means a proxy learns keys no other Gateway uses (and a Gateway
 * deleted and created again gets new ones). Nothing is stored per Gateway or per period.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { canonicalJson, sha256Hex } from '../src/gatewayapi/canonical-json.js';
import { SESSION_TICKET_KEY_BYTES, type ProxyConfig } from '../src/proxy-config.js';
import { statusOf } from './sources/informer.js';
import type { SecretLike } from './credentials.js';

export const TICKET_KEYS_SECRET_NAME = 'tlsgate-ticket-keys';
/** The Secret's data key holding the master secret. */
export const MASTER_KEY = 'master';
export const MASTER_BYTES = 32;
/** As the proxy's own schedule (proxy/runtime.ts TICKET_KEY_ROTATION_MS) and its ticket lifetime. */
export const DEFAULT_TICKET_KEY_ROTATION_MS = 60 * 60 * 1000;

/** The rotation period `nowMs` falls in. */
export function ticketKeyPeriod(nowMs: number, periodMs: number): number {
  return Math.floor(nowMs / periodMs);
}

/** Milliseconds until the next period starts (always > 0). */
export function msUntilNextPeriod(nowMs: number, periodMs: number): number {
  return (ticketKeyPeriod(nowMs, periodMs) + 1) * periodMs - nowMs;
}

/** key(e) of one Gateway: SESSION_TICKET_KEY_BYTES bytes (Node's ticketKeys: 16 name, 16 HMAC, 16 AES). */
export function deriveTicketKey(master: Buffer, gatewayUid: string, period: number): Buffer {
  if (master.length < MASTER_BYTES) throw new Error(`ticket keys: the master secret must be at least ${MASTER_BYTES} bytes, got ${master.length}`);
  if (gatewayUid === '') throw new Error('ticket keys: the Gateway has no metadata.uid');
  return Buffer.from(hkdfSync('sha256', master, gatewayUid, `tlsgate ticket key ${period}`, SESSION_TICKET_KEY_BYTES));
}

/** [key(e), key(e-1)] as ProxyConfig.sessionTicketKeys: new tickets under the current key, the previous one still decrypts. */
export function ticketKeyRing(master: Buffer, gatewayUid: string, nowMs: number, periodMs: number): string[] {
  const period = ticketKeyPeriod(nowMs, periodMs);
  return [period, period - 1].map((e) => deriveTicketKey(master, gatewayUid, e).toString('base64'));
}

/** Hex digits the ring adds to translate's version (a sha256, 64 hex digits). */
const RING_VERSION_HEX = 16;
const TRANSLATED_VERSION_HEX = 64;

/**
 * The config with the ring. Its version is translate's version followed by 16 hex digits of a
 * hash over the whole config, ring included: a new ring is a new version that proxies apply
 * and ACK like any change, while the status (which names translate's version, "Proxy serves
 * config <first 12>") still names a prefix of what the proxies serve.
 */
export function withTicketKeys(config: ProxyConfig, keys: string[]): ProxyConfig {
  const ringId = sha256Hex(canonicalJson({ ...config, sessionTicketKeys: keys })).slice(0, RING_VERSION_HEX);
  const version = config.version + ringId;
  return { schema: config.schema, gateway: config.gateway, version, ports: config.ports, ...(config.settings ? { settings: config.settings } : {}), sessionTicketKeys: keys };
}

/** Translate's version within a published one (the same when it carries no ring). */
export function translatedVersionOf(published: string): string {
  return published.length === TRANSLATED_VERSION_HEX + RING_VERSION_HEX ? published.slice(0, TRANSLATED_VERSION_HEX) : published;
}

/** The master secret from the Secret's data; errors name the Secret and field, never the value. */
export function masterFromSecretData(data: Record<string, string> | undefined, where: string): Buffer {
  const encoded = data?.[MASTER_KEY];
  if (encoded === undefined) throw new Error(`${where}: data.${MASTER_KEY} is missing`);
  const master = Buffer.from(encoded, 'base64');
  if (master.length < MASTER_BYTES) throw new Error(`${where}: data.${MASTER_KEY} must hold at least ${MASTER_BYTES} bytes, got ${master.length}`);
  return master;
}

/** Reads the master Secret, creating it when there is none (any replica may: create-or-read). */
export class TicketKeySecretStore {
  private readonly core: k8s.CoreV1Api;
  private readonly where: string;
  private lastProblem = '';

  constructor(kubeConfig: k8s.KubeConfig, private readonly namespace: string, private readonly log: (message: string) => void) {
    this.core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.where = `Secret ${namespace}/${TICKET_KEYS_SECRET_NAME}`;
  }

  async loadOrCreate(): Promise<Buffer> {
    try {
      const secret = await this.core.readNamespacedSecret({ name: TICKET_KEYS_SECRET_NAME, namespace: this.namespace });
      return masterFromSecretData(secret.data, this.where);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    const master = randomBytes(MASTER_BYTES);
    try {
      await this.core.createNamespacedSecret({
        namespace: this.namespace,
        body: {
          metadata: {
            name: TICKET_KEYS_SECRET_NAME,
            namespace: this.namespace,
            labels: { 'app.kubernetes.io/managed-by': 'tlsgate', 'app.kubernetes.io/component': 'ticket-keys' },
          },
          type: 'Opaque',
          data: { [MASTER_KEY]: master.toString('base64') },
        },
      });
      this.log(`created the session-ticket key Secret ${this.namespace}/${TICKET_KEYS_SECRET_NAME}`);
      return master;
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
      // Another replica created it between our read and our create: use theirs, or we would disagree.
      const secret = await this.core.readNamespacedSecret({ name: TICKET_KEYS_SECRET_NAME, namespace: this.namespace });
      const theirs = masterFromSecretData(secret.data, this.where);
      this.log(`${this.where} was created by another replica meanwhile (409 on create); using it`);
      return theirs;
    }
  }

  /** The master in a cached copy of the Secret (an administrator may replace it), or undefined when absent or unusable. */
  masterFrom(secret: SecretLike | undefined): Buffer | undefined {
    if (!secret) return undefined;
    try {
      const master = masterFromSecretData(secret.data, this.where);
      this.lastProblem = '';
      return master;
    } catch (err) {
      // Once per problem, not once per reconcile; the keys in use stay until it is fixed.
      const problem = (err as Error).message;
      if (problem !== this.lastProblem) this.log(`${problem}; keeping the session-ticket keys in use`);
      this.lastProblem = problem;
      return undefined;
    }
  }
}
