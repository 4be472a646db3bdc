// The regular expressions of the v1.6.1 Gateway API CRDs (crds/*.yaml, openAPIV3Schema
// `pattern`s and the CEL `matches()` calls), copied as written. JavaScript and RE2 agree on
// these: they use only classes, groups, `?`, `*`, `{m,n}` and anchors.

/** RFC 1123 subdomain: listener names, sectionName, rule names, groups (non-empty). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Group: empty (the core API group) or an RFC 1123 subdomain. */
export const GROUP = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kind: a letter, then letters, digits and dashes. */
export const KIND = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/** Namespace: an RFC 1123 label. */
export const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Hostname as the schema allows it: an optional `*.` first label, then an RFC 1123 subdomain. */
export const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Listener protocol: a core name (`TLS`) or a domain-prefixed one (`example.com/proto`). */
export const PROTOCOL = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$/;
/** GatewayClass controllerName: a domain prefix, a slash and a path. */
export const CONTROLLER_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;
/** Gateway address type: a core type or a domain-prefixed one. */
export const ADDRESS_TYPE = /^Hostname|IPAddress|NamedAddress|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;
/** Label and annotation keys (Gateway infrastructure): optional DNS prefix, name up to 63. */
export const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;
/** Label values (Gateway infrastructure). */
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

// HTTPRoute (v1.6.1 httproutes CRD).
/** HTTP header and query-parameter names (RFC 7230 token). `\x60` is the backquote. */
export const HTTP_HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$/;
/** Hostnames without wildcard (RequestRedirect and URLRewrite hostname): an RFC 1123 subdomain. */
export const PRECISE_HOSTNAME = DNS_SUBDOMAIN;
/** The CEL rule on Exact and PathPrefix path values: RFC 3986 path characters and %-escapes. */
export const HTTP_PATH_CHARACTERS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;
/** Gateway API durations (GEP-2257) as the schema allows them: up to four number+unit parts. */
export const GATEWAY_DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
/** CORS allowOrigins entries: `*`, or a scheme, a host (optionally `*.` or `*`) and a port. */
export const CORS_ORIGIN = /(^\*$)|(^(http(s)?):\/\/(((\*\.)?([a-zA-Z0-9\-]+\.)*[a-zA-Z0-9-]+|\*)(:([0-9]{1,5}))?)$)/;
