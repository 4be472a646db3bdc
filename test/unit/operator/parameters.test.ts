import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RESOURCES, effectiveParameters, referencedParameters } from '../../../operator/infra/parameters.js';
import type { GatewayClassObject, GatewayObject } from '../../../operator/objects.js';

test('no parameters: one replica, default resources, a LoadBalancer Service, nothing optional', () => {
  assert.deepEqual(effectiveParameters(), {
    replicas: 1, resources: DEFAULT_RESOURCES, drain: { preStopSeconds: 5, seconds: 20 }, serviceType: 'LoadBalancer', serviceAnnotations: {},
  });
});

test('drain settings merge field by field: the Gateway sets seconds, the class preStopSeconds', () => {
  const merged = effectiveParameters({ deployment: { drain: { preStopSeconds: 2, seconds: 60 } } }, { deployment: { drain: { seconds: 7 } } });
  assert.deepEqual(merged.drain, { preStopSeconds: 2, seconds: 7 });
  assert.deepEqual(effectiveParameters(undefined, { deployment: { drain: { preStopSeconds: 0 } } }).drain, { preStopSeconds: 0, seconds: 20 });
});

test("the Gateway's parameters win field by field over the class's", () => {
  const merged = effectiveParameters(
    { deployment: { replicas: 2, nodeSelector: { zone: 'a' } }, service: { type: 'NodePort', annotations: { a: 'class', b: 'class' } }, podDisruptionBudget: { minAvailable: 1 } },
    { deployment: { replicas: 5 }, service: { annotations: { b: 'gateway' } } },
  );
  assert.equal(merged.replicas, 5);
  assert.deepEqual(merged.nodeSelector, { zone: 'a' });
  assert.equal(merged.serviceType, 'NodePort');
  assert.deepEqual(merged.serviceAnnotations, { a: 'class', b: 'gateway' });
  assert.deepEqual(merged.podDisruptionBudget, { minAvailable: 1 });
});

test('autoscaling defaults its minimum to the replicas and its CPU target to 80%', () => {
  const merged = effectiveParameters({ deployment: { replicas: 3 }, autoscaling: { maxReplicas: 9 } });
  assert.deepEqual(merged.autoscaling, { minReplicas: 3, maxReplicas: 9, targetCPUUtilizationPercentage: 80 });
});

test('references resolve only to tlsgate.dev GatewayParameters: class refs by their namespace, Gateway refs in the Gateway namespace', () => {
  const all = [
    { metadata: { namespace: 'infra', name: 'shared' }, spec: { deployment: { replicas: 2 } } },
    { metadata: { namespace: 'team', name: 'mine' }, spec: { deployment: { replicas: 4 } } },
    { metadata: { namespace: 'other', name: 'mine' }, spec: { deployment: { replicas: 9 } } },
  ];
  const gatewayClass: GatewayClassObject = {
    metadata: { name: 'tlsgate' },
    spec: { controllerName: 'tlsgate.dev/gateway-controller', parametersRef: { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'shared', namespace: 'infra' } },
  };
  const gateway: GatewayObject = {
    metadata: { namespace: 'team', name: 'gw' },
    spec: { gatewayClassName: 'tlsgate', listeners: [], infrastructure: { parametersRef: { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'mine' } } },
  };
  const refs = referencedParameters(gateway, gatewayClass, all);
  assert.equal(refs.fromClass?.deployment?.replicas, 2);
  assert.equal(refs.fromGateway?.deployment?.replicas, 4);
  const foreign = referencedParameters(
    { ...gateway, spec: { ...gateway.spec, infrastructure: { parametersRef: { group: '', kind: 'ConfigMap', name: 'mine' } } } },
    undefined,
    all,
  );
  assert.deepEqual(foreign, { fromClass: undefined, fromGateway: undefined });
});
