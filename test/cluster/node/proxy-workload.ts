// Prints (YAML, stdout) the proxy infrastructure the operator renders for one Gateway, pinned
// to the opt-in real node, so the tlsgate image runs there under the exact securityContext the
// operator gives it (runAsNonRoot, read-only root, no capabilities, the
// ip_unprivileged_port_start sysctl).
//
//   node dist/test/cluster/node/proxy-workload.js NAMESPACE GATEWAY GATEWAY_UID IMAGE
//
// The Gateway must exist (its uid owns the objects, as the operator's do). Only the pod's node
// placement is added: spec.nodeName, because the process agent binds every unscheduled pod to
// its own node whatever its nodeSelector says, and the node's taint toleration. The client
// certificate Secret is not rendered here: the caller creates one with a throwaway key.
import { stringify } from 'yaml';
import { renderProxyInfrastructure, type RenderedObject } from '../../../operator/infra/render.js';
import { effectiveParameters } from '../../../operator/infra/parameters.js';
import type { GatewayObject } from '../../../operator/objects.js';
import { realNodeName, realNodeToleration } from './placement.js';

const managedByLabel = 'app.kubernetes.io/managed-by';

function main(): void {
  const [namespace, name, uid, image] = process.argv.slice(2);
  if (!namespace || !name || !uid || !image) {
    process.stderr.write('usage: proxy-workload.js NAMESPACE GATEWAY GATEWAY_UID IMAGE\n');
    process.exit(2);
  }
  const gateway: GatewayObject = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace, uid },
    spec: { gatewayClassName: 'tlsgate-real-node-demo', listeners: [{ name: 'tls', protocol: 'TLS', port: 443 }] },
  };
  const objects = renderProxyInfrastructure({
    gateway,
    parameters: effectiveParameters({ deployment: { tolerations: [realNodeToleration] } }),
    image,
    imagePullPolicy: 'Never',
    configServerUrl: 'wss://tlsgate-config.tlsgate-system.svc:9443',
  });
  for (const object of objects) {
    // An operator running in the shared cluster (integration or conformance tests) deletes
    // every object labelled as managed by tlsgate that it did not render itself; it removed
    // the first demo's Deployment within minutes. Not a selector label, so nothing else moves.
    if (object.metadata.labels?.[managedByLabel]) object.metadata.labels[managedByLabel] = 'tlsgate-real-node-demo';
    if (object.kind !== 'Deployment') continue;
    const deployment = object as RenderedObject & { spec: { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } } };
    deployment.spec.template.metadata.labels[managedByLabel] = 'tlsgate-real-node-demo';
    deployment.spec.template.spec.nodeName = realNodeName;
  }
  process.stdout.write(objects.map((object) => stringify(object)).join('---\n'));
}

main();
