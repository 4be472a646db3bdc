// The authoring library: typed Gateway API constructs for cdk8s, validated at synth time.
export { GatewayClass, type GatewayClassProps, type GatewayClassParametersRef } from './gateway-class.js';
export {
  Gateway,
  GatewayListener,
  GatewayPort,
  type GatewayProps,
  type GatewayListenerOptions,
  type GatewayAddressOptions,
  type GatewayInfrastructureOptions,
  type ListenerTlsMode,
  type ListenerProtocol,
  type AllowedRoutesOptions,
  type RouteNamespaces,
  type RouteKindOptions,
  type NamespaceLabelSelector,
  type CertificateSource,
  type SecretReference,
  type ListenerSetNamespaces,
} from './gateway.js';
export { ListenerSet, ListenerSetListener, ListenerSetPort, type ListenerSetProps, type ParentGatewayReferenceOptions } from './listener-set.js';
export {
  TlsRoute,
  type TlsRouteProps,
  type TlsRouteParent,
  type TlsRouteBackend,
  type ParentReferenceOptions,
  type ServiceBackendOptions,
  type BackendReferenceOptions,
} from './tls-route.js';
export {
  HttpRoute,
  type HttpRouteProps,
  type HttpRouteParent,
  type HttpRouteRuleOptions,
  type HttpRouteMatch,
  type HttpRoutePathMatch,
  type HttpRoutePathMatchType,
  type HttpRouteValueMatch,
  type HttpRouteValueMatchType,
  type HttpRouteMethod,
  type HttpRouteFilter,
  type HttpRouteHeader,
  type HttpRouteHeaderModifier,
  type HttpRoutePathModifier,
  type HttpRouteRequestRedirect,
  type HttpRouteUrlRewrite,
  type HttpRouteRequestMirror,
  type HttpRouteMirrorBackend,
  type HttpRouteCors,
  type HttpRouteExtensionRef,
  type HttpRouteBackend,
  type HttpRouteTimeouts,
} from './http-route.js';
export { ReferenceGrant, type ReferenceGrantProps, type ReferenceGrantFrom, type ReferenceGrantTo } from './reference-grant.js';
export { type ValidationIssue, formatIssue } from './validation/issues.js';
export { validateGatewayClassSpec } from './validation/gateway-class-rules.js';
export { validateGatewaySpec } from './validation/gateway-rules.js';
export { validateTlsRouteSpec } from './validation/tls-route-rules.js';
export { validateHttpRouteSpec } from './validation/http-route-rules.js';
export { validateReferenceGrantSpec } from './validation/reference-grant-rules.js';
export { validateListenerSetSpec } from './validation/listener-set-rules.js';
export { hostnameIntersection } from './validation/hostnames.js';
