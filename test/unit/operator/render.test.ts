import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { renderClientCertSecret, renderProxyInfrastructure, listenerPorts, IMAGE_CLI, PROXY_ADMIN_PORT, type RenderedObject } from '../../../operator/infra/render.js';
import { effectiveParameters } from '../../../operator/infra/parameters.js';
import { proxyNames, selectorLabels, dnsLabel, labelValue } from '../../../operator/infra/names.js';
import type { GatewayObject } from '../../../operator/objects.js';
import { fromRoot } from '../../helpers/paths.js';
import { PROXY_GLIBC_TUNABLES, PROXY_NODE_FLAGS } from '../../../src/proxy-process-env.js';

const exampleGateway: GatewayObject = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'example-gateway', namespace: 'default', uid: '6f1e0c4e-0000-4000-8000-000000000001' },
  spec: {
    gatewayClassName: 'tlsgate',
    listeners: [
      { name: 'tls', protocol: 'TLS', port: 443 },
      { name: 'tls-terminate', protocol: 'TLS', port: 8443 },
      { name: 'tls-2', protocol: 'TLS', port: 443, hostname: 'foo.example.com' },
    ],
  },
};

const render = (gateway: GatewayObject, parameters = effectiveParameters()) =>
  renderProxyInfrastructure({ gateway, parameters, image: 'ghcr.io/tlsgate/tlsgate:0.1.0', configServerUrl: 'wss://tlsgate-config.tlsgate-system.svc:9443' });

const byKind = (objects: RenderedObject[], kind: string) => {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0] as any;
};

test('the upstream example Gateway renders to the golden objects', () => {
  const golden = fromRoot('test/unit/operator/testdata/example-gateway.infra.yaml');
  const actual = stringify(render(exampleGateway));
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, actual);
  assert.equal(actual, readFileSync(golden, 'utf8'));
});

test('defaults: ServiceAccount, Deployment and a LoadBalancer Service with every distinct listener port', () => {
  const objects = render(exampleGateway);
  assert.deepEqual(objects.map((o) => o.kind), ['ServiceAccount', 'Deployment', 'Service']);
  assert.deepEqual(listenerPorts(exampleGateway), [443, 8443]);
  const service = byKind(objects, 'Service');
  assert.equal(service.spec.type, 'LoadBalancer');
  assert.deepEqual(service.spec.ports.map((p: any) => [p.port, p.targetPort, p.protocol]), [[443, 443, 'TCP'], [8443, 8443, 'TCP']]);
  assert.equal(service.spec.externalIPs, undefined, 'no empty externalIPs for our field manager to own');
  const container = byKind(objects, 'Deployment').spec.template.spec.containers[0];
  assert.deepEqual(container.ports.map((p: any) => p.containerPort), [443, 8443, PROXY_ADMIN_PORT]);
  assert.deepEqual(container.env, [{ name: 'GLIBC_TUNABLES', value: PROXY_GLIBC_TUNABLES }], 'the allocator setting the relay needs (src/proxy-process-env.ts)');
  // V8 reads its heap flags only from the command line: the image's CLI, run by node with them.
  assert.deepEqual(container.command, ['node', ...PROXY_NODE_FLAGS, IMAGE_CLI]);
  assert.equal(IMAGE_CLI, /^ENTRYPOINT \["node", "([^"]+)"\]$/m.exec(readFileSync(fromRoot('Dockerfile'), 'utf8'))?.[1], "the Dockerfile's ENTRYPOINT runs the same CLI");
  assert.equal(container.args[0], 'proxy');
});

test('proxy pods are locked down: non-root user, read-only root, no capabilities, RuntimeDefault seccomp, no token', () => {
  const deployment = byKind(render(exampleGateway), 'Deployment');
  const pod = deployment.spec.template.spec;
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(typeof pod.securityContext.runAsUser, 'number');
  assert.notEqual(pod.securityContext.runAsUser, 0);
  assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
  const container = pod.containers[0];
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.equal(container.securityContext.runAsNonRoot, true);
  assert.deepEqual(container.securityContext.capabilities, { drop: ['ALL'] });
  assert.deepEqual(container.securityContext.seccompProfile, { type: 'RuntimeDefault' });
  assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  assert.equal(container.readinessProbe.httpGet.port, PROXY_ADMIN_PORT);
  assert.equal(container.startupProbe, undefined, "cdk8s-plus's default TCP startup probe is not used");
  assert.deepEqual(container.resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } });
  assert.equal(byKind(render(exampleGateway), 'ServiceAccount').automountServiceAccountToken, false);
});

test('the proxy is told its Gateway, its config server and where its mounted credentials are', () => {
  const pod = byKind(render(exampleGateway), 'Deployment').spec.template.spec;
  const args: string[] = pod.containers[0].args;
  assert.equal(args[0], 'proxy');
  assert.equal(args[args.indexOf('--gateway') + 1], 'default/example-gateway');
  assert.equal(args[args.indexOf('--config-server') + 1], 'wss://tlsgate-config.tlsgate-system.svc:9443');
  assert.equal(pod.volumes[0].secret.secretName, proxyNames('example-gateway').clientCertSecret);
  assert.ok(args[args.indexOf('--cert') + 1]!.startsWith(pod.containers[0].volumeMounts[0].mountPath));
});

test('selectors are explicit and stable; every object is owned by the Gateway and labelled with it', () => {
  const objects = render(exampleGateway);
  const deployment = byKind(objects, 'Deployment');
  const service = byKind(objects, 'Service');
  const selector = selectorLabels('example-gateway');
  assert.deepEqual(deployment.spec.selector.matchLabels, selector);
  assert.deepEqual(service.spec.selector, selector);
  for (const [key, value] of Object.entries(selector)) assert.equal(deployment.spec.template.metadata.labels[key], value);
  for (const object of objects) {
    assert.equal(object.metadata.namespace, 'default');
    assert.equal(object.metadata.labels?.['gateway.networking.k8s.io/gateway-name'], 'example-gateway');
    assert.deepEqual(object.metadata.ownerReferences, [
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'example-gateway', uid: exampleGateway.metadata!.uid, controller: true, blockOwnerDeletion: true },
    ]);
  }
  // Rendering twice gives identical objects (no random construct addresses).
  assert.deepEqual(render(exampleGateway), objects);
});

test('spec.infrastructure labels and annotations propagate, but cannot override the selector labels', () => {
  const gateway: GatewayObject = {
    ...exampleGateway,
    spec: {
      ...exampleGateway.spec,
      infrastructure: { labels: { team: 'payments', 'app.kubernetes.io/name': 'hijack' }, annotations: { 'example.com/owner': 'payments' } },
    },
  };
  const objects = render(gateway);
  for (const object of objects) {
    assert.equal(object.metadata.labels?.team, 'payments');
    assert.equal(object.metadata.annotations?.['example.com/owner'], 'payments');
  }
  const deployment = byKind(objects, 'Deployment');
  assert.equal(deployment.spec.template.metadata.labels.team, 'payments');
  assert.equal(deployment.spec.template.metadata.annotations['example.com/owner'], 'payments');
  assert.equal(deployment.spec.template.metadata.labels['app.kubernetes.io/name'], 'tlsgate-proxy');
  assert.deepEqual(deployment.spec.selector.matchLabels, selectorLabels('example-gateway'));
});

test('GatewayParameters shape replicas, resources, scheduling and the Service', () => {
  const parameters = effectiveParameters(undefined, {
    deployment: {
      replicas: 3,
      resources: { requests: { cpu: '250m', memory: '64Mi' } },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'edge', effect: 'NoSchedule' }],
      affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { a: 'b' } } } }] } },
    },
    service: { type: 'LoadBalancer', annotations: { 'lb.example.com/internal': 'true' }, externalTrafficPolicy: 'Local', loadBalancerClass: 'example.com/lb' },
  });
  const objects = render(exampleGateway, parameters);
  const deployment = byKind(objects, 'Deployment');
  assert.equal(deployment.spec.replicas, 3);
  const pod = deployment.spec.template.spec;
  assert.deepEqual(pod.containers[0].resources, { requests: { cpu: '250m', memory: '64Mi' } });
  assert.deepEqual(pod.nodeSelector, { 'kubernetes.io/os': 'linux' });
  assert.deepEqual(pod.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'edge', effect: 'NoSchedule' }]);
  assert.equal(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
  const service = byKind(objects, 'Service');
  assert.equal(service.spec.externalTrafficPolicy, 'Local');
  assert.equal(service.spec.loadBalancerClass, 'example.com/lb');
  assert.equal(service.metadata.annotations['lb.example.com/internal'], 'true');
  assert.equal(deployment.metadata.annotations?.['lb.example.com/internal'], undefined, 'Service annotations stay on the Service');
});

test('drain: a preStop sleep, --drain-seconds, and a grace period that covers both and the exit', () => {
  const pod = (parameters = effectiveParameters()) => byKind(render(exampleGateway, parameters), 'Deployment').spec.template.spec;
  const defaults = pod();
  assert.deepEqual(defaults.containers[0].lifecycle, { preStop: { sleep: { seconds: 5 } } });
  assert.deepEqual(defaults.containers[0].args.slice(-2), ['--drain-seconds', '20']);
  assert.equal(defaults.terminationGracePeriodSeconds, 30, "Kubernetes' own default, so the defaults change nothing for the kubelet's SIGKILL");
  const set = pod(effectiveParameters(undefined, { deployment: { drain: { preStopSeconds: 3, seconds: 45 } } }));
  assert.deepEqual(set.containers[0].lifecycle, { preStop: { sleep: { seconds: 3 } } });
  assert.deepEqual(set.containers[0].args.slice(-2), ['--drain-seconds', '45']);
  assert.equal(set.terminationGracePeriodSeconds, 53);
  const none = pod(effectiveParameters(undefined, { deployment: { drain: { preStopSeconds: 0, seconds: 0 } } }));
  assert.equal(none.containers[0].lifecycle, undefined, 'a zero sleep needs a newer feature gate: no hook at all');
  assert.equal(none.terminationGracePeriodSeconds, 5);
});

test('a ClusterIP Service gets neither externalTrafficPolicy nor loadBalancerClass', () => {
  const service = byKind(render(exampleGateway, effectiveParameters({ service: { type: 'ClusterIP', externalTrafficPolicy: 'Local', loadBalancerClass: 'x/y' } })), 'Service');
  assert.equal(service.spec.type, 'ClusterIP');
  assert.equal(service.spec.externalTrafficPolicy, undefined);
  assert.equal(service.spec.loadBalancerClass, undefined);
});

test('PodDisruptionBudget and autoscaler; the Deployment leaves replicas to the autoscaler', () => {
  const objects = render(exampleGateway, effectiveParameters(undefined, { podDisruptionBudget: { minAvailable: 1 }, autoscaling: { minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70 } }));
  assert.deepEqual(objects.map((o) => o.kind), ['ServiceAccount', 'Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']);
  const pdb = byKind(objects, 'PodDisruptionBudget');
  assert.equal(pdb.spec.minAvailable, 1, 'an integer, not the string "1"');
  assert.deepEqual(pdb.spec.selector.matchLabels, selectorLabels('example-gateway'));
  const hpa = byKind(objects, 'HorizontalPodAutoscaler');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: proxyNames('example-gateway').workload });
  assert.equal(hpa.spec.minReplicas, 2);
  assert.equal(hpa.spec.maxReplicas, 6);
  assert.equal(hpa.spec.metrics[0].resource.target.averageUtilization, 70);
  assert.equal('replicas' in byKind(objects, 'Deployment').spec, false);
  const percent = byKind(render(exampleGateway, effectiveParameters({ podDisruptionBudget: { maxUnavailable: '50%' } })), 'PodDisruptionBudget');
  assert.equal(percent.spec.maxUnavailable, '50%');
});

test('long and dotted Gateway names give valid, distinct, stable object names and label values', () => {
  const long = 'a'.repeat(200);
  const dotted = 'edge.example.com';
  for (const name of [long, dotted, `${long}b`]) {
    const names = proxyNames(name);
    assert.match(names.workload, /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    assert.match(names.clientCertSecret, /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    assert.match(labelValue(name), /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
    assert.equal(proxyNames(name).workload, names.workload);
  }
  assert.notEqual(proxyNames(long).workload, proxyNames(`${long}b`).workload);
  assert.equal(labelValue(dotted), dotted, 'a valid label value is kept as it is');
  assert.equal(dnsLabel('tlsgate-plain'), 'tlsgate-plain');
});

test('a Gateway without a uid cannot be rendered (it could not own its objects)', () => {
  assert.throws(() => render({ ...exampleGateway, metadata: { name: 'g', namespace: 'default' } }), /Gateway default\/g: metadata\.uid/);
});

test('the client-certificate Secret is a kubernetes.io/tls Secret owned by the Gateway', () => {
  const secret = renderClientCertSecret(exampleGateway, { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5', 'ca.crt': 'Y2E=' }) as any;
  assert.equal(secret.kind, 'Secret');
  assert.equal(secret.type, 'kubernetes.io/tls');
  assert.equal(secret.metadata.name, proxyNames('example-gateway').clientCertSecret);
  assert.deepEqual(secret.data, { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5', 'ca.crt': 'Y2E=' });
  assert.equal(secret.metadata.ownerReferences[0].uid, exampleGateway.metadata!.uid);
  assert.equal(secret.metadata.labels['app.kubernetes.io/managed-by'], 'tlsgate');
});

test('a listener on the admin port renders (it is PortUnavailable): the admin port once in the pod, not on the Service', () => {
  const gateway: GatewayObject = { ...exampleGateway, spec: { ...exampleGateway.spec, listeners: [...exampleGateway.spec.listeners, { name: 'clash', protocol: 'TLS', port: PROXY_ADMIN_PORT }] } };
  const objects = render(gateway);
  assert.deepEqual(listenerPorts(gateway), [443, 8443]);
  assert.deepEqual(byKind(objects, 'Deployment').spec.template.spec.containers[0].ports.map((p: any) => p.containerPort), [443, 8443, PROXY_ADMIN_PORT]);
  assert.deepEqual(byKind(objects, 'Service').spec.ports.map((p: any) => p.port), [443, 8443]);
});
