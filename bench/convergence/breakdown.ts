/**
 * Where a change's time goes, from the logs the parts already write: the operator logs
 * `config_published` and `config_acked` per Gateway and config version, the proxy logs
 * `config_applied`. The node agent keeps every container's log under
 * .cache/cluster/pods/<ns>_<pod>_<uid8>/logs/<container>.log, so the benchmark reads them
 * after the run. Timestamps are wall-clock milliseconds of one machine (same clock as the
 * benchmark's own `appliedAt`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { podsDir } from '../../test/cluster/state.js';

export interface LogEvent {
  at: number;
  version: string;
}

export interface DeliveryLog {
  /** Per operator pod: versions published and acknowledged for the Gateway, in log order. */
  operators: { pod: string; published: LogEvent[]; acked: LogEvent[] }[];
  /** Versions the Gateway's proxy pods applied. */
  applied: LogEvent[];
}

const OPERATOR_LINE = /^(\S+) operator config-server (config_published|config_acked) (\{.*\})$/;

function logFiles(prefix: string, container: string): { pod: string; file: string }[] {
  if (!existsSync(podsDir)) return [];
  return readdirSync(podsDir)
    .filter((dir) => dir.startsWith(prefix))
    .map((dir) => ({ pod: dir.split('_')[1] ?? dir, file: path.join(podsDir, dir, 'logs', `${container}.log`) }))
    .filter(({ file }) => existsSync(file));
}

/** Reads the delivery events of Gateway `namespace/name` from the operator and proxy pod logs. */
export function readDeliveryLog(operatorNamespace: string, operatorPodPrefix: string, namespace: string, proxyPodPrefix: string, gatewayKey: string): DeliveryLog {
  const operators = logFiles(`${operatorNamespace}_${operatorPodPrefix}`, 'operator').map(({ pod, file }) => {
    const published: LogEvent[] = [];
    const acked: LogEvent[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = OPERATOR_LINE.exec(line);
      if (!match) continue;
      let fields: { gateway?: string; version?: string };
      try {
        fields = JSON.parse(match[3]!) as typeof fields;
      } catch {
        continue;
      }
      if (fields.gateway !== gatewayKey || !fields.version) continue;
      (match[2] === 'config_published' ? published : acked).push({ at: Date.parse(match[1]!), version: fields.version });
    }
    return { pod, published, acked };
  });
  const applied: LogEvent[] = [];
  for (const { file } of logFiles(`${namespace}_${proxyPodPrefix}`, 'proxy')) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.includes('"config_applied"')) continue;
      try {
        const event = JSON.parse(line) as { time?: string; event?: string; version?: string };
        if (event.event === 'config_applied' && event.time && event.version) applied.push({ at: Date.parse(event.time), version: event.version });
      } catch {
        // a line cut short by a restart: not an event
      }
    }
  }
  return { operators, applied };
}

export interface ChangeDelivery {
  version: string;
  /** Milliseconds after the apply call returned. */
  publishedMs: number;
  appliedMs: number | null;
  ackedMs: number | null;
}

/**
 * The first config the leader published after `appliedAt` (the leader is the operator pod
 * that received the ACK: proxies connect to it alone), when the proxy applied it and when
 * the ACK arrived.
 */
export function deliveryOf(log: DeliveryLog, appliedAt: number): ChangeDelivery | undefined {
  for (const operator of log.operators) {
    const published = operator.published.find((e) => e.at >= appliedAt);
    if (!published) continue;
    const acked = operator.acked.find((e) => e.version === published.version && e.at >= published.at);
    if (!acked) continue;
    const applied = log.applied.find((e) => e.version === published.version && e.at >= published.at);
    return {
      version: published.version,
      publishedMs: published.at - appliedAt,
      appliedMs: applied ? applied.at - appliedAt : null,
      ackedMs: acked.at - appliedAt,
    };
  }
  return undefined;
}
