/**
 * Small hand-written shapes of the Kubernetes objects translate reads and the statuses it
 * writes. They mirror the upstream Go types (gateway-api v1.6.1 `apis/v1`, core/v1,
 * discovery/v1) for the fields tlsgate uses; everything is optional where the API server
 * may omit it, because translate must never crash on an object that slipped past CEL.
 * (The cdk8s-generated types in imports/ lack `status` and are spec-only, hence these.)
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

// ---------------------------------------------------------------- GatewayClass

export interface ParametersReference {
  group: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface GatewayClass extends KubeObject {
  spec: {
    controllerName: string;
    parametersRef?: ParametersReference;
    description?: string;
  };
  status?: GatewayClassStatus;
}

export interface GatewayClassStatus {
  conditions?: Condition[];
  supportedFeatures?: { name: string }[];
}

// ---------------------------------------------------------------- Gateway

export interface SecretObjectReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
}

export interface RouteGroupKind {
  group?: string;
  kind: string;
}

export interface Listener {
  name: string;
  hostname?: string;
  port: number;
  protocol: string;
  tls?: {
    mode?: 'Terminate' | 'Passthrough' | string;
    certificateRefs?: SecretObjectReference[];
    options?: Record<string, string>;
  };
  allowedRoutes?: {
    namespaces?: { from?: 'All' | 'Same' | 'Selector' | string; selector?: LabelSelector };
    kinds?: RouteGroupKind[];
  };
}

export interface GatewayAddress {
  type?: string;
  value: string;
}

/** Which namespaces' ListenerSets may attach to a Gateway; absent or `None`: none. */
export interface AllowedListeners {
  namespaces?: { from?: 'All' | 'Same' | 'Selector' | 'None' | string; selector?: LabelSelector };
}

export interface Gateway extends KubeObject {
  spec: {
    gatewayClassName: string;
    listeners: Listener[];
    allowedListeners?: AllowedListeners;
    addresses?: GatewayAddress[];
    infrastructure?: {
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      parametersRef?: { group: string; kind: string; name: string };
    };
  };
  status?: GatewayStatus;
}

export interface ListenerStatus {
  name: string;
  supportedKinds: RouteGroupKind[];
  attachedRoutes: number;
  conditions: Condition[];
}

export interface GatewayStatus {
  addresses?: { type: 'IPAddress' | 'Hostname' | string; value: string }[];
  conditions?: Condition[];
  listeners?: ListenerStatus[];
  /** ListenerSets attached to this Gateway (allowed by it and Accepted). */
  attachedListenerSets?: number;
}

// ---------------------------------------------------------------- ListenerSet

/** ParentGatewayReference: group and kind default to the Gateway API group and `Gateway`. */
export interface ParentGatewayReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
}

/** gateway.networking.k8s.io/v1 ListenerSet: listeners a team adds to a Gateway that allows it. */
export interface ListenerSet extends KubeObject {
  spec: {
    parentRef: ParentGatewayReference;
    /** ListenerEntry has the fields of a Gateway Listener; names are unique within the set only. */
    listeners: Listener[];
  };
  status?: ListenerSetStatus;
}

export interface ListenerSetStatus {
  conditions?: Condition[];
  listeners?: ListenerStatus[];
}

// ---------------------------------------------------------------- TLSRoute

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface BackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
}

export interface TLSRoute extends KubeObject {
  spec: {
    parentRefs?: ParentReference[];
    hostnames?: string[];
    rules?: { name?: string; backendRefs?: BackendRef[] }[];
  };
  status?: { parents?: RouteParentStatus[] };
}

export interface RouteParentStatus {
  parentRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}

// ---------------------------------------------------------------- HTTPRoute

export interface HTTPHeaderMatch {
  /** Default `Exact`. */
  type?: 'Exact' | 'RegularExpression' | string;
  name: string;
  value: string;
}

export interface HTTPQueryParamMatch {
  /** Default `Exact`. */
  type?: 'Exact' | 'RegularExpression' | string;
  name: string;
  value: string;
}

export interface HTTPRouteMatch {
  /** Default `{ type: PathPrefix, value: / }`. */
  path?: { type?: 'Exact' | 'PathPrefix' | 'RegularExpression' | string; value?: string };
  headers?: HTTPHeaderMatch[];
  queryParams?: HTTPQueryParamMatch[];
  method?: string;
}

export interface HTTPHeader {
  name: string;
  value: string;
}

export interface HTTPHeaderFilter {
  set?: HTTPHeader[];
  add?: HTTPHeader[];
  remove?: string[];
}

export interface HTTPPathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch' | string;
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}

export interface HTTPRouteFilter {
  type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestMirror' | 'RequestRedirect' | 'URLRewrite' | 'ExtensionRef' | 'CORS' | string;
  requestHeaderModifier?: HTTPHeaderFilter;
  responseHeaderModifier?: HTTPHeaderFilter;
  requestRedirect?: {
    scheme?: string;
    hostname?: string;
    path?: HTTPPathModifier;
    port?: number;
    /** Default 302. */
    statusCode?: number;
  };
  urlRewrite?: { hostname?: string; path?: HTTPPathModifier };
  requestMirror?: Record<string, unknown>;
  extensionRef?: { group: string; kind: string; name: string };
  cors?: Record<string, unknown>;
  [other: string]: unknown;
}

export interface HTTPBackendRef extends BackendRef {
  filters?: HTTPRouteFilter[];
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
  /** Gateway API durations, e.g. `10s`, `500ms`, `1h2m`. */
  timeouts?: { request?: string; backendRequest?: string };
  /** Experimental channel fields tlsgate does not support; present only when the CRD is not standard. */
  retry?: unknown;
  sessionPersistence?: unknown;
}

export interface HTTPRoute extends KubeObject {
  spec: {
    parentRefs?: ParentReference[];
    hostnames?: string[];
    rules?: HTTPRouteRule[];
  };
  status?: { parents?: RouteParentStatus[] };
}

// ---------------------------------------------------------------- ReferenceGrant

export interface ReferenceGrant extends KubeObject {
  spec: {
    from: { group: string; kind: string; namespace: string }[];
    to: { group: string; kind: string; name?: string }[];
  };
}

// ---------------------------------------------------------------- core and discovery

export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    externalName?: string;
    selector?: Record<string, string>;
    ports?: ServicePort[];
  };
}

export interface EndpointSlice extends KubeObject {
  addressType?: 'IPv4' | 'IPv6' | 'FQDN' | string;
  endpoints?: {
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    hostname?: string;
    nodeName?: string;
  }[];
  ports?: { name?: string; port?: number; protocol?: string; appProtocol?: string }[];
}

export interface Secret extends KubeObject {
  type?: string;
  /** base64-encoded values, as the API returns them. */
  data?: Record<string, string>;
  /** plain values, as users may write them in manifests. */
  stringData?: Record<string, string>;
}

export interface Namespace extends KubeObject {}

/** tlsgate.dev/v1alpha1 GatewayParameters: our parametersRef target (namespaced). */
export interface GatewayParameters extends KubeObject {
  spec?: {
    proxy?: {
      clientHelloTimeoutMs?: number;
      maxClientHelloBytes?: number;
      connectTimeoutMs?: number;
      idleTimeoutMs?: number;
      maxConnectionsPerListener?: number;
    };
    [key: string]: unknown;
  };
}

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const TLSGATE_GROUP = 'tlsgate.dev';
export const GATEWAY_PARAMETERS_KIND = 'GatewayParameters';
