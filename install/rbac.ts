/**
 * The operator's permissions: exactly the verbs its code uses, nothing more.
 * Cluster-wide because Gateways, routes and their backends live in any namespace; the
 * namespaced Role covers what only exists in the operator's own namespace.
 */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export const CLUSTER_RULES: PolicyRule[] = [
  // Informers (list + watch) over everything translate reads.
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['gatewayclasses', 'gateways', 'tlsroutes', 'httproutes', 'referencegrants', 'listenersets'], verbs: ['list', 'watch'] },
  { apiGroups: ['tlsgate.dev'], resources: ['gatewayparameters'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
  // Status: GatewayClass, Gateway and ListenerSet by merge patch; TLSRoute and HTTPRoute parents by get + replace (update).
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['gatewayclasses/status', 'gateways/status', 'listenersets/status'], verbs: ['patch'] },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['tlsroutes/status', 'httproutes/status'], verbs: ['get', 'update'] },
  // Per-Gateway infrastructure: server-side apply (patch; and create, which the API server
  // checks when an apply creates the object: verified, without it the first apply is a 403),
  // deletion, the label-selected list of the garbage sweep, and a label-selected watch of what
  // we own, so a deleted or edited object is applied again at once (drift).
  // Secrets: list and watch cover the two selectors the operator uses (type kubernetes.io/tls,
  // and its own label); RBAC cannot restrict either, nor writes, by label, and each Gateway's
  // proxy client-certificate Secret must live in the Gateway's namespace (a pod mounts only
  // Secrets of its own), so create/patch/delete are cluster-wide. There is no get or update of
  // Secrets here: the only Secrets read one by one or updated are in the operator's namespace
  // (the Role below, by name).
  { apiGroups: [''], resources: ['secrets', 'services', 'serviceaccounts'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list', 'create', 'patch', 'delete'] },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['list', 'create', 'patch', 'delete'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
];

export const LEASE_NAME = 'tlsgate-operator';
export const CA_SECRET = 'tlsgate-ca';
export const TICKET_KEYS_SECRET = 'tlsgate-ticket-keys';

export const NAMESPACE_RULES: PolicyRule[] = [
  // Leader election: read and renew our Lease; create it the first time.
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], resourceNames: [LEASE_NAME] },
  // The CA Secret: read, created by the first replica, rotated by the leader.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'update'], resourceNames: [CA_SECRET] },
  // The session-ticket master secret: read, created by the first replica (create is in the
  // cluster rules), never changed by the operator.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: [TICKET_KEYS_SECRET] },
  // The leader labels its own pod so that the config-server Service routes proxies to it. Only
  // here, in the operator's namespace (pod names are generated, so no resourceNames); no pod
  // anywhere else can be patched.
  { apiGroups: [''], resources: ['pods'], verbs: ['patch'] },
];
