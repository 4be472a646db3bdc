// The operator as users install it, for integration tests: `kubectl apply --server-side` of
// installObjects() (what `npm run synth:install` writes to dist/install.yaml), the operator
// running as pods under its own RBAC; its removal (never the CRDs); the logs that explain a
// failure; and the address a Programmed Gateway is reached at.
//
//   const kc = loadTestKubeConfig();
//   const install = await installOperator(kc);          // { leader, pods, tookMs }
//   const host = await gatewayEndpoint(kc, ns, 'example-gateway');
//   assert.ok(ok, `...\n${operatorDiagnostics({ namespaces: [ns] })}`);
//   await uninstallOperator(kc);                         // in after()
//
// Every wait is bounded and its timeout error says what was last seen.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { kubeconfigPath } from '../cluster/client.js';
import { podsDir } from '../cluster/state.js';
import { installObjects, OPERATOR_NAMESPACE, OPERATOR_NAME } from '../../install/app.js';
import { LEADER_LABEL } from '../../operator/operator.js';
import { projectRoot } from '../helpers/paths.js';
import { condition, eventually, getCustom } from './operator-support.js';

export { OPERATOR_NAMESPACE, OPERATOR_NAME };

const execFileAsync = promisify(execFile);

/** The image the install manifest names; the node agent maps it to bin/tlsgate.js of this checkout. */
export const INSTALL_IMAGE = 'ghcr.io/tlsgate/tlsgate:0.1.0';
/** The GatewayClass the install manifest creates. */
export const INSTALL_GATEWAY_CLASS = 'tlsgate';
const LEASE_NAME = 'tlsgate-operator';

export interface InstallOperatorOptions {
  image?: string;
  /** Operator replicas (2 by default, as shipped). */
  replicas?: number;
  /** Bound for the whole install: terminating namespace gone, pods ready, leader labelled. */
  timeoutMs?: number;
  /** Field manager of the server-side apply. */
  fieldManager?: string;
}

export interface OperatorInstallInfo {
  /** The pod holding the Lease and carrying the config-server leader label. */
  leader: string;
  /** Names of the ready operator pods. */
  pods: string[];
  /** Wall time of installOperator (for diagnostics; never asserted). */
  tookMs: number;
}

/** `kubectl --kubeconfig <test cluster> ...`, no shell, bounded; stderr in the error. */
export async function kubectl(args: string[], timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync('kubectl', ['--kubeconfig', kubeconfigPath, ...args], { encoding: 'utf8', timeout: Math.round(timeoutMs), maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

const isReady = (pod: k8s.V1Pod): boolean =>
  !pod.metadata?.deletionTimestamp && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Waits (bounded) until a namespace does not exist, e.g. one still terminating from an earlier uninstall. */
export async function waitForNamespaceGone(kc: k8s.KubeConfig, name: string, timeoutMs = 120_000): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  let phase = '';
  await eventually(`namespace ${name} gone`, async () => {
    try {
      const ns = await core.readNamespace({ name });
      phase = `${ns.status?.phase ?? '?'}${ns.metadata?.deletionTimestamp ? ' (terminating)' : ''}`;
      return false;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return true;
      throw error;
    }
  }, timeoutMs).catch((error: Error) => {
    const hint = phase.includes('terminating') ? '' : ' and not being deleted: another run\'s install is in use or was never uninstalled';
    throw new Error(`${error.message}; it is still ${phase}${hint}`);
  });
}

/**
 * Installs the operator as a user would and waits until it works: the namespace of an
 * earlier uninstall gone, the manifest applied server-side (taking over the CRDs the
 * cluster already has), `replicas` ready pods, the Lease held by one of them and exactly
 * that pod labelled for the config-server Service.
 */
export async function installOperator(kc: k8s.KubeConfig, options: InstallOperatorOptions = {}): Promise<OperatorInstallInfo> {
  const started = performance.now();
  const deadline = started + (options.timeoutMs ?? 240_000);
  const left = () => Math.round(Math.max(1_000, deadline - performance.now()));
  const replicas = options.replicas ?? 2;
  await waitForNamespaceGone(kc, OPERATOR_NAMESPACE, left());

  const dir = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-install-'));
  try {
    const file = path.join(dir, 'install.yaml');
    const objects = installObjects({ root: projectRoot, image: options.image ?? INSTALL_IMAGE, replicas });
    writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
    // The cluster already has the CRDs (applied by cluster:up's manager): take them over.
    await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager', options.fieldManager ?? 'it-install', '-f', file], left());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const core = kc.makeApiClient(k8s.CoreV1Api);
  const leases = kc.makeApiClient(k8s.CoordinationV1Api);
  const fail = (error: Error): never => {
    throw new Error(`installOperator: ${error.message}\n${operatorDiagnostics()}`);
  };
  const pods = await eventually(`${replicas} ready operator pods`, async () => {
    const list = await core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: `app.kubernetes.io/name=${OPERATOR_NAME}` });
    const ready = list.items.filter(isReady).map((p) => p.metadata!.name!);
    return ready.length === replicas && ready;
  }, left()).catch(fail);
  const leader = await eventually('the Lease held by a ready operator pod, and only that pod labelled leader', async () => {
    const lease = await leases.readNamespacedLease({ name: LEASE_NAME, namespace: OPERATOR_NAMESPACE });
    const holder = lease.spec?.holderIdentity;
    if (!holder || !pods.includes(holder)) return undefined;
    const labelled = await core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: `${LEADER_LABEL}=true` });
    const names = labelled.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);
    return names.length === 1 && names[0] === holder ? holder : undefined;
  }, left()).catch(fail);
  return { leader, pods, tookMs: Math.round(performance.now() - started) };
}

export interface UninstallOperatorOptions {
  /** Bound for the operator namespace to be gone. */
  timeoutMs?: number;
}

/**
 * Removes what installOperator applied except the CRDs (the rest of the suite uses them).
 * The operator namespace goes first and is waited for, so the operator pods stop with their
 * RBAC still in place (no 403 noise in their last log lines) and the next install starts
 * clean; then the cluster RBAC and the GatewayClass. Errors are collected and thrown at the
 * end, so one failure does not leave the rest behind.
 */
export async function uninstallOperator(kc: k8s.KubeConfig, options: UninstallOperatorOptions = {}): Promise<void> {
  const problems: string[] = [];
  const run = (args: string[]) => kubectl(args, 30_000).catch((error: Error) => { problems.push(error.message); });
  await run(['delete', 'namespace', OPERATOR_NAMESPACE, '--ignore-not-found', '--wait=false']);
  await waitForNamespaceGone(kc, OPERATOR_NAMESPACE, options.timeoutMs ?? 120_000).catch((error: Error) => { problems.push(error.message); });
  await run(['delete', 'clusterrolebinding', OPERATOR_NAME, '--ignore-not-found']);
  await run(['delete', 'clusterrole', OPERATOR_NAME, '--ignore-not-found']);
  await run(['delete', 'gatewayclass', INSTALL_GATEWAY_CLASS, '--ignore-not-found']);
  if (problems.length > 0) throw new Error(`uninstallOperator: ${problems.join('; ')}`);
}

export interface DiagnosticsOptions {
  /** Namespaces whose proxy pods' logs to include; default: every proxy pod log written in the last 10 minutes. */
  namespaces?: string[];
  /** Lines from the end of each log (default 30). */
  lines?: number;
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Access-log lines (one JSON object per connection) would push a crash or an error out of the tail. */
const isAccessLog = (line: string): boolean => line.startsWith('{"time":');

function logsOf(dirs: string[], container: string, lines: number): string[] {
  return dirs.flatMap((dir) => {
    const file = path.join(podsDir, dir, 'logs', `${container}.log`);
    if (!existsSync(file)) return [];
    const all = readFileSync(file, 'utf8').trimEnd().split('\n');
    const other = all.filter((line) => !isAccessLog(line));
    const access = all.filter(isAccessLog);
    const parts = [`--- ${dir} (${container}), last ${lines} lines other than access logs:\n${tail(other.join('\n'), lines)}`];
    if (access.length > 0) parts.push(`--- ${dir} (${container}), last 5 of ${access.length} access-log lines:\n${tail(access.join('\n'), 5)}`);
    return parts;
  });
}

/**
 * Text for a failure message: the operator pods and proxy pods as the API sees them, the
 * last log lines of the operator pods and the proxy pods' logs (read from the node agent's
 * pod directories: there is no `kubectl logs`). Never throws.
 */
export function operatorDiagnostics(options: DiagnosticsOptions = {}): string {
  const lines = options.lines ?? 30;
  const out: string[] = ['=== operator diagnostics ==='];
  try {
    out.push(execFileSync('kubectl', ['--kubeconfig', kubeconfigPath, 'get', 'pods', '-A', '-o', 'wide', '-l', `app.kubernetes.io/name in (${OPERATOR_NAME},tlsgate-proxy)`], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] }).trimEnd());
  } catch (error) {
    out.push(`(kubectl get pods failed: ${(error as Error).message.split('\n')[0]})`);
  }
  try {
    const byAge = (dirs: string[]) => dirs
      .map((d) => ({ d, mtime: statSync(path.join(podsDir, d)).mtimeMs }))
      .sort((a, b) => a.mtime - b.mtime);
    const dirs = existsSync(podsDir) ? readdirSync(podsDir) : [];
    // The newest few operator pods: the current install plus a replaced or earlier one.
    const operatorDirs = byAge(dirs.filter((d) => d.startsWith(`${OPERATOR_NAMESPACE}_${OPERATOR_NAME}-`))).slice(-4).map((x) => x.d);
    out.push(...logsOf(operatorDirs, 'operator', lines));
    const recent = Date.now() - 10 * 60_000;
    const proxyDirs = byAge(dirs.filter((d) => {
      const [ns = '', pod = ''] = d.split('_');
      if (ns === OPERATOR_NAMESPACE || !pod.startsWith('tlsgate-')) return false;
      return options.namespaces ? options.namespaces.includes(ns) : true;
    })).filter((x) => options.namespaces || x.mtime >= recent).slice(-8).map((x) => x.d);
    out.push(...logsOf(proxyDirs, 'proxy', lines));
    if (operatorDirs.length === 0 && proxyDirs.length === 0) out.push(`(no operator or proxy pod logs under ${podsDir})`);
  } catch (error) {
    out.push(`(reading pod logs failed: ${(error as Error).message})`);
  }
  return out.join('\n');
}

/**
 * Waits for the Gateway to be Programmed=True for its current generation and returns its
 * first `status.addresses` value (the proxy Service's load-balancer ingress, 127.0.200.N on
 * the cluster in a box). The timeout error carries the last conditions and diagnostics.
 */
export async function gatewayEndpoint(kc: k8s.KubeConfig, namespace: string, gatewayName: string, timeoutMs = 120_000): Promise<string> {
  let last: unknown;
  const gateway = await eventually(`Gateway ${namespace}/${gatewayName} Programmed=True with an address`, async () => {
    const gw = await getCustom(kc, 'gateways', namespace, gatewayName);
    last = gw.status?.conditions;
    const programmed = condition(gw.status?.conditions, 'Programmed');
    return programmed?.status === 'True' && programmed.observedGeneration === gw.metadata.generation && gw.status?.addresses?.[0]?.value ? gw : undefined;
  }, timeoutMs).catch((error: Error) => {
    throw new Error(`${error.message}; last conditions: ${JSON.stringify(last)}\n${operatorDiagnostics({ namespaces: [namespace] })}`);
  });
  return gateway.status.addresses[0].value as string;
}
