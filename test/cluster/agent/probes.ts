// Readiness, liveness and startup probes, run from the host (as the kubelet does) against
// the pod's address: HTTP GET, TCP connect, or exec inside the container's namespaces.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { execFile } from 'node:child_process';
import type * as k8s from '@kubernetes/client-node';

export interface ProbeTarget {
  podIp: string;
  container: k8s.V1Container;
  /** The container's main process, for exec probes (entered with nsenter). */
  pid: () => number | undefined;
}

export interface ProbeOutcome {
  ok: boolean;
  detail: string;
}

function resolvePort(port: number | string | undefined, container: k8s.V1Container): number {
  if (typeof port === 'number') return port;
  if (port !== undefined && /^\d+$/.test(port)) return Number(port);
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`probe port "${port}" is not a port name of container "${container.name}"`);
  return named.containerPort;
}

function httpProbe(action: k8s.V1HTTPGetAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const port = resolvePort(action.port as number | string, target.container);
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.34', accept: '*/*' };
    for (const h of action.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
    const options = { host: action.host ?? target.podIp, port, path: action.path ?? '/', headers, timeout: timeoutMs };
    let settled = false;
    const finish = (outcome: ProbeOutcome): void => { if (!settled) { settled = true; resolve(outcome); } };
    const onResponse = (res: http.IncomingMessage): void => {
      res.resume();
      const code = res.statusCode ?? 0;
      finish({ ok: code >= 200 && code < 400, detail: `HTTP probe got status ${code}` });
    };
    // HTTPS probes do not verify the certificate, like the kubelet's.
    const req = action.scheme === 'HTTPS'
      ? https.get({ ...options, rejectUnauthorized: false }, onResponse)
      : http.get(options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (error) => finish({ ok: false, detail: `HTTP probe failed: ${error.message}` }));
  });
}

function tcpProbe(action: k8s.V1TCPSocketAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const port = resolvePort(action.port as number | string, target.container);
    const socket = net.connect({ host: action.host ?? target.podIp, port });
    let settled = false;
    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => finish({ ok: false, detail: `TCP probe: no connection within ${timeoutMs} ms` }));
    socket.on('connect', () => finish({ ok: true, detail: 'TCP probe connected' }));
    socket.on('error', (error) => finish({ ok: false, detail: `TCP probe failed: ${error.message}` }));
  });
}

function execProbe(action: k8s.V1ExecAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const pid = target.pid();
    if (pid === undefined) { resolve({ ok: false, detail: 'exec probe: container is not running' }); return; }
    execFile('nsenter', ['--target', String(pid), '--net', '--mount', '--', ...(action.command ?? [])], { timeout: timeoutMs }, (error, _stdout, stderr) => {
      resolve(error ? { ok: false, detail: `exec probe failed: ${stderr.trim() || error.message}` } : { ok: true, detail: 'exec probe succeeded' });
    });
  });
}

export async function runProbe(probe: k8s.V1Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.httpGet) return await httpProbe(probe.httpGet, target, timeoutMs);
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket, target, timeoutMs);
    if (probe.exec) return await execProbe(probe.exec, target, timeoutMs);
    return { ok: false, detail: 'unsupported probe handler (supported: httpGet, tcpSocket, exec)' };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Runs one probe on its schedule and reports state changes: `onResult(true)` after
 * successThreshold consecutive successes, `onResult(false)` after failureThreshold failures.
 */
export class ProbeLoop {
  private timer: NodeJS.Timeout | undefined;
  private successes = 0;
  private failures = 0;
  private stopped = false;
  lastDetail = '';

  constructor(
    private readonly probe: k8s.V1Probe,
    private readonly target: ProbeTarget,
    private readonly onResult: (ok: boolean, detail: string) => void,
  ) {}

  start(): void {
    this.timer = setTimeout(() => void this.tick(), (this.probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const outcome = await runProbe(this.probe, this.target);
    if (this.stopped) return;
    this.lastDetail = outcome.detail;
    if (outcome.ok) {
      this.failures = 0;
      if (++this.successes >= (this.probe.successThreshold ?? 1)) this.onResult(true, outcome.detail);
    } else {
      this.successes = 0;
      if (++this.failures >= (this.probe.failureThreshold ?? 3)) this.onResult(false, outcome.detail);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), (this.probe.periodSeconds ?? 10) * 1000);
  }
}
