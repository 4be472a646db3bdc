// The upstream Gateway API v1.6.1 conformance suite's setup and checks, rebuilt for the
// cluster in a box so that its TLSRoute scenario files can be applied as they are:
//
// - the base manifests (conformance/base/manifests.yaml), only the objects TLSRoute tests use;
// - the certificates the suite creates at run time (a CA in ConfigMap
//   tls-checks-ca-certificate and the Secrets the manifests mount or reference), made with
//   the openssl CLI with the SANs upstream gives them;
// - the status waits of conformance/utils/kubernetes (listener statuses, route parents,
//   "no accepted parents", "zero routes", NamespacesMustBeReady) with upstream's timeouts;
// - the traffic checks of conformance/utils/tcp and utils/tls against echo-basic.
//
// Data files are read from ../shared/gateway-api/v1.6.1 (see SOURCE.md there); only
// {GATEWAY_CLASS_NAME} is substituted, as the suite does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { upstreamDir } from '../helpers/paths.js';
import { waitFor } from '../cluster/client.js';
import { GATEWAY_GROUP, getCustom } from './operator-support.js';
import { expectSilentClose } from '../helpers/traffic.js';

export const INFRA_NS = 'gateway-conformance-infra';
export const APP_BACKEND_NS = 'gateway-conformance-app-backend';
export const conformanceDir = path.join(upstreamDir, 'conformance');
export const tlsRouteDir = path.join(conformanceDir, 'tlsroute');

/** Upstream DefaultTimeoutConfig (conformance/utils/config/timeout.go), the ones these checks use. */
export const TIMEOUTS = {
  maxTimeToConsistency: 30_000,
  requiredConsecutiveSuccesses: 3,
  routeMustHaveCondition: 60_000,
  routeMustHaveParents: 60_000,
  gatewayStatusMustHaveListeners: 60_000,
  routeMustNotHaveParents: 60_000,
  namespacesMustBeReady: 300_000,
  gatewayMustHaveAddress: 180_000,
  gatewayClassMustBeAccepted: 180_000,
};

// ---------------------------------------------------------------------------------------
// Manifests

export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; [key: string]: any };

/** Every object of an upstream YAML file, with {GATEWAY_CLASS_NAME} substituted and nothing else changed. */
export function loadManifests(file: string, gatewayClassName: string): KubeObject[] {
  const text = readFileSync(file, 'utf8').replaceAll('{GATEWAY_CLASS_NAME}', gatewayClassName);
  return parseAllDocuments(text).map((doc) => doc.toJSON()).filter((obj): obj is KubeObject => obj !== null && typeof obj === 'object');
}

export const objectKey = (o: KubeObject): string => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/**
 * What of the base manifests the TLSRoute tests use, applied as written: the infra and
 * app-backend namespaces and the three TLS/TCP echo backends. Everything else is left out,
 * each with the reason (kept in the docs too).
 */
const BASE_SKIPS: { match: (o: KubeObject) => boolean; why: string }[] = [
  { match: (o) => o.kind === 'Gateway', why: 'HTTP/HTTPS Gateways for HTTPRoute tests; tlsgate serves TLS listeners only (spec 7.3), and no TLSRoute test uses them' },
  { match: (o) => /^(infra-backend-v[123]|app-backend-v[12]|web-backend)$/.test(o.metadata.name), why: 'HTTP echo backends of the HTTPRoute tests; no TLSRoute test routes to them' },
  { match: (o) => o.metadata.name.startsWith('grpc-infra-backend-'), why: 'gRPC echo backends (GRPC_ECHO_SERVER), which the echo-basic stand-in does not provide; GRPCRoute tests only' },
  { match: (o) => o.metadata.name === 'coredns', why: 'a UDP DNS server for UDPRoute tests: its image is not in the node agent\'s table and UDP Services are not relayed' },
  { match: (o) => o.kind === 'Namespace' && o.metadata.name === 'gateway-conformance-web-backend', why: 'holds only web-backend (HTTP) and the gateway-core certificate tests\' Secret' },
];

export function baseManifests(gatewayClassName: string): { apply: KubeObject[]; skipped: { key: string; why: string }[] } {
  const apply: KubeObject[] = [];
  const skipped: { key: string; why: string }[] = [];
  for (const object of loadManifests(path.join(conformanceDir, 'base', 'manifests.yaml'), gatewayClassName)) {
    const skip = BASE_SKIPS.find((s) => s.match(object));
    if (skip) skipped.push({ key: objectKey(object), why: skip.why });
    else apply.push(object);
  }
  return { apply, skipped };
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: number }).code === 404;
}

/** Creates the objects in order, as `kubectl create -f` would. */
export async function createObjects(kc: k8s.KubeConfig, objects: KubeObject[]): Promise<void> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const object of objects) {
    try {
      await client.create(structuredClone(object));
    } catch (error) {
      throw new Error(`creating ${objectKey(object)}: ${(error as Error).message}`);
    }
  }
}

/**
 * Deletes the objects (reverse order) and waits until the API no longer has them, so the
 * next scenario can create objects of the same names (upstream reuses some).
 */
export async function deleteObjects(kc: k8s.KubeConfig, objects: KubeObject[], timeoutMs = 120_000): Promise<void> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const object of [...objects].reverse()) {
    await client.delete(object as k8s.KubernetesObject, undefined, undefined, undefined, undefined, 'Background').catch((error: unknown) => {
      if (!isNotFound(error)) throw new Error(`deleting ${objectKey(object)}: ${(error as Error).message}`);
    });
  }
  for (const object of objects) {
    await waitFor(`${objectKey(object)} gone`, timeoutMs, async () => {
      try {
        await client.read(object as k8s.KubernetesObject & { metadata: { name: string; namespace: string } });
        return undefined;
      } catch (error) {
        if (isNotFound(error)) return true;
        throw error;
      }
    }, 200);
  }
}

// ---------------------------------------------------------------------------------------
// Certificates (upstream creates them in the suite's setup; we do it with the openssl CLI)

export interface ConformancePki {
  caPem: string;
  /** Leaf certificates by Secret name, to compare with what a handshake presented. */
  certs: Record<string, string>;
  /** The ConfigMap and Secrets to create. */
  objects: KubeObject[];
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * The CA in ConfigMap gateway-conformance-infra/tls-checks-ca-certificate (key ca.crt) and
 * the Secrets the TLSRoute manifests need, with upstream's SANs:
 *   tls-checks-certificate (infra): abc.example.com, spiffe://abc.example.com/test-identity, other.example.com
 *   tls-passthrough-checks-certificate (infra, app-backend): abc.example.com
 *   tls-terminate-checks-certificate (infra): tls.example.com
 *   tls-validity-checks-certificate (infra, self-signed): *, *.org, *.wildcard.org
 * Keys exist only in a temp dir (removed) and in the Secrets.
 */
export function makeConformancePki(): ConformancePki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-conformance-pki-'));
  try {
    // A minimal config, so no default extensions (e.g. CA:TRUE of v3_ca) end up in leaves.
    writeFileSync(path.join(dir, 'min.cnf'), '[req]\ndistinguished_name=dn\n[dn]\n');
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '7'];
    openssl(dir, ['req', '-config', 'min.cnf', '-x509', ...ec, '-subj', '/O=Kubernetes Gateway API conformance/CN=tls-checks-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', 'ca.key', '-out', 'ca.crt']);
    const leaf = (name: string, sans: string[], selfSigned = false): { cert: string; key: string } => {
      openssl(dir, ['req', '-config', 'min.cnf', '-x509', ...(selfSigned ? [] : ['-CA', 'ca.crt', '-CAkey', 'ca.key']), ...ec,
        '-subj', `/O=Kubernetes Gateway API conformance/CN=${name}`,
        '-addext', `subjectAltName=${sans.join(',')}`, '-addext', 'basicConstraints=critical,CA:FALSE',
        '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment', '-addext', 'extendedKeyUsage=serverAuth',
        '-keyout', `${name}.key`, '-out', `${name}.crt`]);
      return { cert: readFileSync(path.join(dir, `${name}.crt`), 'utf8'), key: readFileSync(path.join(dir, `${name}.key`), 'utf8') };
    };
    const caPem = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    const made = {
      'tls-checks-certificate': leaf('tls-checks-certificate', ['DNS:abc.example.com', 'URI:spiffe://abc.example.com/test-identity', 'DNS:other.example.com']),
      'tls-passthrough-checks-certificate': leaf('tls-passthrough-checks-certificate', ['DNS:abc.example.com']),
      'tls-terminate-checks-certificate': leaf('tls-terminate-checks-certificate', ['DNS:tls.example.com']),
      'tls-validity-checks-certificate': leaf('tls-validity-checks-certificate', ['DNS:*', 'DNS:*.org', 'DNS:*.wildcard.org'], true),
    };
    const secret = (name: keyof typeof made, namespace: string): KubeObject => ({
      apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from(made[name].cert).toString('base64'), 'tls.key': Buffer.from(made[name].key).toString('base64') },
    });
    return {
      caPem,
      certs: Object.fromEntries(Object.entries(made).map(([name, pair]) => [name, pair.cert])),
      objects: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tls-checks-ca-certificate', namespace: INFRA_NS }, data: { 'ca.crt': caPem } },
        secret('tls-checks-certificate', INFRA_NS),
        secret('tls-passthrough-checks-certificate', INFRA_NS),
        secret('tls-passthrough-checks-certificate', APP_BACKEND_NS),
        secret('tls-terminate-checks-certificate', INFRA_NS),
        secret('tls-validity-checks-certificate', INFRA_NS),
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function fingerprint(pem: string | Buffer): string {
  return new X509Certificate(pem).fingerprint256;
}

// ---------------------------------------------------------------------------------------
// Status checks (conformance/utils/kubernetes), each polling until it holds or times out
// with what it last saw.

export interface ExpectedCondition { type: string; status: string; reason?: string }
export interface ExpectedListener {
  name: string;
  supportedKinds: { group?: string; kind: string }[];
  conditions: ExpectedCondition[];
  attachedRoutes: number;
}

const conditionsCurrent = (conditions: any[] | undefined, generation: number): boolean =>
  (conditions ?? []).every((c) => c.observedGeneration === generation);

function matchConditions(expected: ExpectedCondition[], actual: any[] | undefined): string | undefined {
  for (const e of expected) {
    const a = (actual ?? []).find((c) => c.type === e.type);
    if (!a) return `no ${e.type} condition`;
    if (a.status !== e.status || (e.reason && a.reason !== e.reason)) return `${e.type}=${a.status}/${a.reason}, want ${e.status}/${e.reason || '(any)'}`;
  }
  return undefined;
}

/** Polls `check` (which returns a mismatch description, or undefined when satisfied). */
async function pollStatus(what: string, timeoutMs: number, check: () => Promise<string | undefined>): Promise<void> {
  let mismatch = 'not checked yet';
  try {
    await waitFor(what, timeoutMs, async () => {
      mismatch = (await check()) ?? '';
      return mismatch === '' ? true : undefined;
    }, 250);
  } catch (error) {
    throw new Error(`${(error as Error).message}; last mismatch: ${mismatch}`);
  }
}

/** GatewayStatusMustHaveListeners: conditions current, same listener count, each listener as expected. */
export async function gatewayStatusMustHaveListeners(kc: k8s.KubeConfig, namespace: string, name: string, expected: ExpectedListener[]): Promise<any> {
  let gateway: any;
  await pollStatus(`Gateway ${namespace}/${name} listener statuses`, TIMEOUTS.gatewayStatusMustHaveListeners, async () => {
    gateway = await getCustom(kc, 'gateways', namespace, name);
    if (!conditionsCurrent(gateway.status?.conditions, gateway.metadata.generation)) return `Gateway conditions not at generation ${gateway.metadata.generation}: ${JSON.stringify(gateway.status?.conditions)}`;
    const listeners: any[] = gateway.status?.listeners ?? [];
    if (listeners.length !== expected.length) return `${listeners.length} listener statuses, want ${expected.length}`;
    for (const e of expected) {
      const a = listeners.find((l) => l.name === e.name);
      if (!a) return `no status for listener ${e.name}`;
      const kinds: any[] = a.supportedKinds ?? [];
      if (e.supportedKinds.length === 0) {
        if (kinds.length !== 0) return `listener ${e.name} supportedKinds ${JSON.stringify(kinds)}, want none`;
      } else {
        for (const k of e.supportedKinds) {
          if (!kinds.some((x) => (x.group ?? GATEWAY_GROUP) === (k.group ?? GATEWAY_GROUP) && x.kind === k.kind)) return `listener ${e.name} supportedKinds ${JSON.stringify(kinds)} lacks ${k.kind}`;
        }
      }
      const bad = matchConditions(e.conditions, a.conditions);
      if (bad) return `listener ${e.name}: ${bad}`;
      if (a.attachedRoutes !== e.attachedRoutes) return `listener ${e.name} attachedRoutes ${a.attachedRoutes}, want ${e.attachedRoutes}`;
    }
    return undefined;
  });
  return gateway;
}

/**
 * GatewayAndTLSRoutesMustBeAccepted: the Gateway has an address (we wait for Programmed=True
 * too, which NamespacesMustBeReady asks anyway), and each route has exactly one parent entry,
 * ours, for that Gateway with group and kind present and Accepted=True/Accepted. Returns the
 * Gateway's address.
 */
export async function gatewayAndTlsRoutesMustBeAccepted(
  kc: k8s.KubeConfig, controllerName: string, gatewayAddress: () => Promise<string>,
  gw: { namespace: string; name: string }, routes: { namespace: string; name: string }[],
): Promise<string> {
  const address = await gatewayAddress();
  for (const route of routes) {
    await pollStatus(`TLSRoute ${route.namespace}/${route.name} accepted by ${gw.name}`, TIMEOUTS.routeMustHaveParents, async () => {
      const r = await getCustom(kc, 'tlsroutes', route.namespace, route.name);
      const parents: any[] = r.status?.parents ?? [];
      if (parents.length !== 1) return `${parents.length} parent entries: ${JSON.stringify(parents)}`;
      const p = parents[0];
      if (p.controllerName !== controllerName) return `controllerName ${p.controllerName}`;
      if (p.parentRef.group !== GATEWAY_GROUP || p.parentRef.kind !== 'Gateway') return `parentRef group/kind ${p.parentRef.group}/${p.parentRef.kind}, want both present`;
      if (p.parentRef.name !== gw.name) return `parentRef name ${p.parentRef.name}`;
      const namespaceRequired = route.namespace !== gw.namespace;
      if (p.parentRef.namespace !== gw.namespace && (namespaceRequired || p.parentRef.namespace !== undefined)) return `parentRef namespace ${p.parentRef.namespace}`;
      return matchConditions([{ type: 'Accepted', status: 'True', reason: 'Accepted' }], p.conditions);
    });
  }
  return address;
}

/** TLSRouteMustHaveCondition: every parent's conditions current; the entry for `gatewayName` has the condition. */
export async function tlsRouteMustHaveCondition(kc: k8s.KubeConfig, route: { namespace: string; name: string }, gatewayName: string, expected: ExpectedCondition): Promise<void> {
  await pollStatus(`TLSRoute ${route.namespace}/${route.name} ${expected.type}=${expected.status}/${expected.reason} for ${gatewayName}`, TIMEOUTS.routeMustHaveCondition, async () => {
    const r = await getCustom(kc, 'tlsroutes', route.namespace, route.name);
    const parents: any[] = r.status?.parents ?? [];
    for (const p of parents) {
      if (!conditionsCurrent(p.conditions, r.metadata.generation)) return `parent ${p.parentRef.name} conditions not at generation ${r.metadata.generation}`;
    }
    const p = parents.find((x) => x.parentRef.name === gatewayName);
    if (!p) return `no parent entry for ${gatewayName}: ${JSON.stringify(parents)}`;
    return matchConditions([expected], p.conditions);
  });
}

/** TLSRouteMustHaveNoAcceptedParents: no parents (on two polls in a row), or exactly one with Accepted=False, conditions current. */
export async function tlsRouteMustHaveNoAcceptedParents(kc: k8s.KubeConfig, route: { namespace: string; name: string }): Promise<void> {
  let emptySeen = 0;
  await pollStatus(`TLSRoute ${route.namespace}/${route.name} without accepted parents`, TIMEOUTS.routeMustNotHaveParents, async () => {
    const r = await getCustom(kc, 'tlsroutes', route.namespace, route.name);
    const parents: any[] = r.status?.parents ?? [];
    if (parents.length === 0) {
      emptySeen += 1;
      // Upstream polls every second: an empty list may just mean "not reconciled yet".
      if (emptySeen >= 2) return undefined;
      await sleep(1000);
      return 'no parents yet (seen once)';
    }
    emptySeen = 0;
    if (parents.length !== 1) return `${parents.length} parent entries`;
    if (!conditionsCurrent(parents[0].conditions, r.metadata.generation)) return 'parent conditions not current';
    return matchConditions([{ type: 'Accepted', status: 'False' }], parents[0].conditions);
  });
}

/** GatewayMustHaveZeroRoutes: conditions current; no listener statuses, or exactly one with attachedRoutes 0. */
export async function gatewayMustHaveZeroRoutes(kc: k8s.KubeConfig, namespace: string, name: string): Promise<void> {
  await pollStatus(`Gateway ${namespace}/${name} with zero routes`, TIMEOUTS.gatewayStatusMustHaveListeners, async () => {
    const gw = await getCustom(kc, 'gateways', namespace, name);
    if (!conditionsCurrent(gw.status?.conditions, gw.metadata.generation)) return 'Gateway conditions not current';
    const listeners: any[] = gw.status?.listeners ?? [];
    if (listeners.length === 0) return undefined;
    if (listeners.length !== 1) return `${listeners.length} listener statuses`;
    return listeners[0].attachedRoutes === 0 ? undefined : `attachedRoutes ${listeners[0].attachedRoutes}`;
  });
}

/**
 * NamespacesMustBeReady: every Gateway without the gateway-api/skip-this-for-readiness
 * annotation (and not in `except`) Accepted=True and Programmed=True with current
 * conditions, and every Pod of the namespaces Ready (a namespace without pods fails).
 */
export async function namespacesMustBeReady(kc: k8s.KubeConfig, namespaces: string[], except: string[] = []): Promise<void> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await pollStatus(`namespaces ${namespaces.join(', ')} ready`, TIMEOUTS.namespacesMustBeReady, async () => {
    for (const namespace of namespaces) {
      const list: any = await custom.listNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', plural: 'gateways', namespace });
      for (const gw of list.items as any[]) {
        if (gw.metadata.annotations?.['gateway-api/skip-this-for-readiness'] === 'true' || except.includes(gw.metadata.name)) continue;
        const conditions: any[] = gw.status?.conditions ?? [];
        if (!conditionsCurrent(conditions, gw.metadata.generation)) return `Gateway ${gw.metadata.name} conditions not current`;
        const bad = matchConditions([{ type: 'Accepted', status: 'True' }, { type: 'Programmed', status: 'True' }], conditions);
        if (bad) return `Gateway ${gw.metadata.name}: ${bad}`;
      }
      const pods = await core.listNamespacedPod({ namespace });
      if (pods.items.length === 0) return `no pods in ${namespace}`;
      for (const pod of pods.items) {
        if (!(pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')) return `pod ${namespace}/${pod.metadata?.name} not Ready`;
      }
    }
    return undefined;
  });
}

// ---------------------------------------------------------------------------------------
// Traffic (conformance/utils/tcp and utils/tls), real sockets, a new connection per try

export interface TcpEchoAnswer {
  welcome: string;
  pong: string;
  isTls: string;
  test: { namespace: string; pod: string; isTLS?: boolean; tls?: { serverName?: string } };
  /** The certificate the client was shown in the handshake. */
  peerCertificate: string;
}

function pemOf(cert: tls.PeerCertificate): string {
  return `-----BEGIN CERTIFICATE-----\n${cert.raw.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END CERTIFICATE-----\n`;
}

/**
 * One TLS connection (SNI `serverName`, TLS 1.2+, no ALPN, only `caPem` trusted) and the
 * echo-basic TCP conversation: welcome line, PING, IS_TLS, TEST.
 */
export function tcpEchoOverTls(host: string, port: number, serverName: string, caPem: string, timeoutMs = 5000): Promise<TcpEchoAnswer> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: serverName, ca: caPem, minVersion: 'TLSv1.2' });
    const lines: string[] = [];
    let buffered = '';
    let settled = false;
    let peerCertificate = '';
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) { reject(error); return; }
      try {
        resolve({ welcome: lines[0]!, pong: lines[1]!, isTls: lines[2]!, test: JSON.parse(lines[3]!), peerCertificate });
      } catch (parseError) {
        reject(new Error(`TEST answer is not JSON: ${JSON.stringify(lines[3])} (${(parseError as Error).message})`));
      }
    };
    const timer = setTimeout(() => finish(new Error(`${host}:${port} (SNI ${serverName}): only ${JSON.stringify(lines)} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('secureConnect', () => { peerCertificate = pemOf(socket.getPeerCertificate()); });
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        lines.push(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        // The server speaks first; each answer prompts the next question.
        if (lines.length === 1) socket.write('PING\n');
        else if (lines.length === 2) socket.write('IS_TLS\n');
        else if (lines.length === 3) socket.write('TEST\n');
        else if (lines.length === 4) finish();
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('end', () => finish(new Error(`${host}:${port} (SNI ${serverName}) closed after ${JSON.stringify(lines)}`)));
  });
}

export interface TcpExpectation { namespace: string; backend: string; isTls: boolean; serverName?: string }

/**
 * MakeTCPRequestAndExpectEventuallyValidResponse: within MaxTimeToConsistency one
 * connection gets the welcome line, PONG, the expected IS_TLS, and a TEST answer from a pod
 * of `backend` in `namespace` (and, when given, the SNI the backend saw).
 */
export async function expectTcpEcho(host: string, port: number, serverName: string, caPem: string, expected: TcpExpectation): Promise<TcpEchoAnswer> {
  let mismatch = '';
  try {
    return await waitFor(`TCP echo via ${host}:${port} SNI ${serverName} from ${expected.namespace}/${expected.backend}`, TIMEOUTS.maxTimeToConsistency, async () => {
      const answer = await tcpEchoOverTls(host, port, serverName, caPem);
      const problems = [
        answer.welcome !== 'Gateway API Test TCP Server' && `welcome ${JSON.stringify(answer.welcome)}`,
        answer.pong !== 'PONG' && `PING answered ${JSON.stringify(answer.pong)}`,
        answer.isTls !== String(expected.isTls) && `IS_TLS ${answer.isTls}, want ${expected.isTls}`,
        answer.test.namespace !== expected.namespace && `namespace ${answer.test.namespace}`,
        !answer.test.pod?.startsWith(`${expected.backend}-`) && `pod ${answer.test.pod}`,
        expected.serverName !== undefined && answer.test.tls?.serverName !== expected.serverName && `backend saw SNI ${answer.test.tls?.serverName}`,
      ].filter(Boolean);
      mismatch = problems.join(', ');
      return problems.length === 0 ? answer : undefined;
    }, 1000);
  } catch (error) {
    throw new Error(`${(error as Error).message}${mismatch ? `; last mismatch: ${mismatch}` : ''}`);
  }
}

export interface HttpsEchoAnswer { status: number; body: any; peerCertificate: string }

/** One HTTPS GET / with SNI and Host `serverName`, only `caPem` trusted. */
export function httpsEcho(host: string, port: number, serverName: string, caPem: string, timeoutMs = 5000): Promise<HttpsEchoAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host, port, path: '/', servername: serverName, headers: { host: serverName }, ca: caPem, minVersion: 'TLSv1.2', agent: false }, (res) => {
      const peerCertificate = pemOf((res.socket as tls.TLSSocket).getPeerCertificate());
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), peerCertificate });
        } catch {
          reject(new Error(`GET https://${serverName}/ via ${host}:${port}: not JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET https://${serverName}/ via ${host}:${port} timed out`)));
    req.on('error', reject);
  });
}

/**
 * MakeTLSRequestAndExpectEventuallyConsistentResponse: RequiredConsecutiveSuccesses answers
 * in a row, within MaxTimeToConsistency, from a pod of `backend` in `namespace`.
 */
export async function expectHttpsEcho(host: string, port: number, serverName: string, caPem: string, expected: { namespace: string; backend: string }): Promise<HttpsEchoAnswer> {
  let streak = 0;
  let mismatch = '';
  try {
    return await waitFor(`${TIMEOUTS.requiredConsecutiveSuccesses} consecutive HTTPS answers via ${host}:${port} SNI ${serverName} from ${expected.namespace}/${expected.backend}`, TIMEOUTS.maxTimeToConsistency, async () => {
      let answer: HttpsEchoAnswer;
      try {
        answer = await httpsEcho(host, port, serverName, caPem);
      } catch (error) {
        streak = 0;
        throw error;
      }
      const problems = [
        answer.status !== 200 && `status ${answer.status}`,
        answer.body.namespace !== expected.namespace && `namespace ${answer.body.namespace}`,
        !String(answer.body.pod).startsWith(`${expected.backend}-`) && `pod ${answer.body.pod}`,
      ].filter(Boolean);
      mismatch = problems.join(', ');
      streak = problems.length === 0 ? streak + 1 : 0;
      return streak >= TIMEOUTS.requiredConsecutiveSuccesses ? answer : undefined;
    }, 200);
  } catch (error) {
    throw new Error(`${(error as Error).message}${mismatch ? `; last mismatch: ${mismatch}` : ''}`);
  }
}

/**
 * MakeTLSConnectionAndExpectEventuallyConnectionRejection: within MaxTimeToConsistency, one
 * connection (attempts 1 s apart) is accepted and then closed without a single byte from the
 * gateway (traffic.ts's expectSilentClose: no ServerHello, no alert). Upstream retries too:
 * a refused connect, a timeout or an answer does not count until time runs out.
 */
export async function expectEventuallySilentClose(host: string, port: number, servername: string): Promise<void> {
  await waitFor(`${host}:${port} to close a connection with SNI ${servername} silently`, TIMEOUTS.maxTimeToConsistency,
    async () => (await expectSilentClose({ host, port, servername }), true), 1000);
}
