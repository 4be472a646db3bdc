// A container's environment as the kubelet builds it: service variables for the apiserver,
// envFrom, env with value / fieldRef (downward API) / secretKeyRef / configMapKeyRef /
// resourceFieldRef, and $(VAR) expansion in values, command and args.
import type * as k8s from '@kubernetes/client-node';
import { containerPath } from './pod-node.js';

export interface EnvSources {
  pod: k8s.V1Pod;
  podIp: string;
  hostIp: string;
  apiserver: { host: string; port: number };
  readSecret: (name: string) => Promise<k8s.V1Secret | undefined>;
  readConfigMap: (name: string) => Promise<k8s.V1ConfigMap | undefined>;
}

export class EnvError extends Error {}

/** The downward API `fieldRef.fieldPath` values the kubelet supports. */
export function fieldRefValue(pod: k8s.V1Pod, fieldPath: string, podIp: string, hostIp: string): string {
  const meta = pod.metadata ?? {};
  const bracket = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (bracket) {
    const map = bracket[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[bracket[2]!] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name': return meta.name ?? '';
    case 'metadata.namespace': return meta.namespace ?? '';
    case 'metadata.uid': return meta.uid ?? '';
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP': case 'status.podIPs': return podIp;
    case 'status.hostIP': case 'status.hostIPs': return hostIp;
    default: throw new EnvError(`unsupported downward API fieldPath "${fieldPath}"`);
  }
}

/** Expands $(NAME) from `vars`; $$ escapes; unknown references stay as written (kubelet rule). */
export function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && vars[name] !== undefined ? vars[name]! : match;
  });
}

function resourceValue(container: k8s.V1Container, resource: string, divisor: string | undefined): string {
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  const raw = (kind === 'limits' ? container.resources?.limits : container.resources?.requests)?.[name];
  // Without a limit the kubelet reports node allocatable; this node advertises 2 CPUs, 8Gi.
  const fallback = name === 'cpu' ? '2' : name === 'memory' ? String(8 * 1024 ** 3) : '0';
  if (raw === undefined) return fallback;
  if (name === 'cpu' && (!divisor || divisor === '1')) {
    const value = raw.endsWith('m') ? Number(raw.slice(0, -1)) / 1000 : Number(raw);
    return String(Math.ceil(value));
  }
  return String(raw);
}

export async function containerEnv(container: k8s.V1Container, src: EnvSources): Promise<Record<string, string>> {
  const pod = src.pod;
  const ns = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {
    PATH: containerPath(process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'),
    HOSTNAME: pod.spec?.hostname ?? pod.metadata?.name ?? '',
    HOME: '/root',
    KUBERNETES_SERVICE_HOST: src.apiserver.host,
    KUBERNETES_SERVICE_PORT: String(src.apiserver.port),
    KUBERNETES_SERVICE_PORT_HTTPS: String(src.apiserver.port),
    KUBERNETES_PORT: `tcp://${src.apiserver.host}:${src.apiserver.port}`,
  };
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.secretRef) {
      const secret = await src.readSecret(from.secretRef.name!);
      if (!secret && !from.secretRef.optional) throw new EnvError(`envFrom: secret "${ns}/${from.secretRef.name}" not found`);
      for (const [k, v] of Object.entries(secret?.data ?? {})) env[prefix + k] = Buffer.from(v, 'base64').toString('utf8');
    }
    if (from.configMapRef) {
      const cm = await src.readConfigMap(from.configMapRef.name!);
      if (!cm && !from.configMapRef.optional) throw new EnvError(`envFrom: configmap "${ns}/${from.configMapRef.name}" not found`);
      for (const [k, v] of Object.entries(cm?.data ?? {})) env[prefix + k] = v;
    }
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom;
    if (!ref) {
      env[variable.name] = expand(variable.value ?? '', env);
    } else if (ref.fieldRef) {
      env[variable.name] = fieldRefValue(pod, ref.fieldRef.fieldPath, src.podIp, src.hostIp);
    } else if (ref.secretKeyRef) {
      const { name, key, optional } = ref.secretKeyRef;
      const value = (await src.readSecret(name!))?.data?.[key];
      if (value === undefined) {
        if (optional) continue;
        throw new EnvError(`env ${variable.name}: key "${key}" of secret "${ns}/${name}" not found`);
      }
      env[variable.name] = Buffer.from(value, 'base64').toString('utf8');
    } else if (ref.configMapKeyRef) {
      const { name, key, optional } = ref.configMapKeyRef;
      const value = (await src.readConfigMap(name!))?.data?.[key];
      if (value === undefined) {
        if (optional) continue;
        throw new EnvError(`env ${variable.name}: key "${key}" of configmap "${ns}/${name}" not found`);
      }
      env[variable.name] = value;
    } else if (ref.resourceFieldRef) {
      env[variable.name] = resourceValue(container, ref.resourceFieldRef.resource, ref.resourceFieldRef.divisor);
    } else {
      throw new EnvError(`env ${variable.name}: unsupported valueFrom`);
    }
  }
  return env;
}
