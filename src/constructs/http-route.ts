// HTTPRoute: requests to the hostnames of one or more HTTP or HTTPS listeners, matched by
// path, headers, query parameters and method, filtered, and forwarded to weighted backends.
// The props mirror the CRD's YAML (rules, matches, filters), with constructs allowed where
// the YAML names a Gateway, a listener or a Service.
import { ApiObjectMetadata, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import * as gwapi from '../../imports/gwapi-gateway.networking.k8s.io.js';
import {
  checkParents,
  checkServicePort,
  grantBackend,
  renderBackendRef,
  renderParentRef,
  type BackendReferenceOptions,
  type RouteBackend,
  type RouteContext,
  type RouteParent,
  type ServiceBackendOptions,
} from './route-refs.js';
import { checkHttpRouteSemantics } from './validation/http-route-semantics.js';
import { validateHttpRouteSpec } from './validation/http-route-rules.js';
import { formatIssue, type ValidationIssue } from './validation/issues.js';
import { validateMetadata } from './validation/metadata-rules.js';

/** A Gateway, one of its listeners (`sectionName`), its listeners on a port, or a reference by name. */
export type HttpRouteParent = RouteParent;

export type HttpRoutePathMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression';
export type HttpRouteValueMatchType = 'Exact' | 'RegularExpression';
export type HttpRouteMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'CONNECT' | 'OPTIONS' | 'TRACE' | 'PATCH';

export interface HttpRoutePathMatch {
  /** @default "PathPrefix" (the CRD default; left out of the manifest) */
  readonly type?: HttpRoutePathMatchType;
  /** @default "/" (the CRD default; left out of the manifest) */
  readonly value?: string;
}

/** A header or query-parameter match. */
export interface HttpRouteValueMatch {
  readonly name: string;
  readonly value: string;
  /** @default "Exact" (the CRD default; left out of the manifest) */
  readonly type?: HttpRouteValueMatchType;
}

/** One match: every condition given must hold. A rule matches when any of its matches does. */
export interface HttpRouteMatch {
  /** @default PathPrefix "/" when the match gives no path */
  readonly path?: HttpRoutePathMatch;
  readonly headers?: readonly HttpRouteValueMatch[];
  readonly queryParams?: readonly HttpRouteValueMatch[];
  readonly method?: HttpRouteMethod;
}

export interface HttpRouteHeader {
  readonly name: string;
  readonly value: string;
}

export interface HttpRouteHeaderModifier {
  /** Headers to overwrite (or add when absent). */
  readonly set?: readonly HttpRouteHeader[];
  /** Headers to add to the existing values. */
  readonly add?: readonly HttpRouteHeader[];
  /** Header names to remove. */
  readonly remove?: readonly string[];
}

/** Replace the whole path, or only the prefix the rule's single PathPrefix match matched. */
export type HttpRoutePathModifier =
  | { readonly type: 'ReplaceFullPath'; readonly replaceFullPath: string }
  | { readonly type: 'ReplacePrefixMatch'; readonly replacePrefixMatch: string };

export interface HttpRouteRequestRedirect {
  /** @default the request's scheme */
  readonly scheme?: 'http' | 'https';
  /** @default the request's host */
  readonly hostname?: string;
  /** @default the request's path */
  readonly path?: HttpRoutePathModifier;
  /** @default derived from the scheme and the listener (see the Gateway API spec) */
  readonly port?: number;
  /** @default 302 (the CRD default; left out of the manifest) */
  readonly statusCode?: 301 | 302 | 303 | 307 | 308;
}

export interface HttpRouteUrlRewrite {
  /** The Host the backend sees. */
  readonly hostname?: string;
  readonly path?: HttpRoutePathModifier;
}

/** Where RequestMirror sends its copies: a backend without weight. */
export type HttpRouteMirrorBackend = kplus.Service | Omit<ServiceBackendOptions, 'weight'> | Omit<BackendReferenceOptions, 'weight'>;

export interface HttpRouteRequestMirror {
  readonly backend: HttpRouteMirrorBackend;
  /** Share of requests mirrored, 0..100 (or give `fraction`). @default every request */
  readonly percent?: number;
  /** `numerator / denominator` of requests mirrored; denominator defaults to 100. */
  readonly fraction?: { readonly numerator: number; readonly denominator?: number };
}

export interface HttpRouteCors {
  readonly allowOrigins?: readonly string[];
  readonly allowMethods?: readonly (HttpRouteMethod | '*')[];
  readonly allowHeaders?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  readonly allowCredentials?: boolean;
  /** Seconds. @default 5 (the CRD default; left out of the manifest) */
  readonly maxAge?: number;
}

/** A filter resource of an implementation (`extensionRef`), in the route's namespace. */
export interface HttpRouteExtensionRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

/**
 * A filter, written as in the CRD: its `type` and the field of that type. RequestHeaderModifier,
 * ResponseHeaderModifier, RequestRedirect and URLRewrite are checked in full; RequestMirror,
 * CORS and ExtensionRef are passed through with their CRD rules checked.
 */
export type HttpRouteFilter =
  | { readonly type: 'RequestHeaderModifier'; readonly requestHeaderModifier: HttpRouteHeaderModifier }
  | { readonly type: 'ResponseHeaderModifier'; readonly responseHeaderModifier: HttpRouteHeaderModifier }
  | { readonly type: 'RequestRedirect'; readonly requestRedirect: HttpRouteRequestRedirect }
  | { readonly type: 'URLRewrite'; readonly urlRewrite: HttpRouteUrlRewrite }
  | { readonly type: 'RequestMirror'; readonly requestMirror: HttpRouteRequestMirror }
  | { readonly type: 'CORS'; readonly cors: HttpRouteCors }
  | { readonly type: 'ExtensionRef'; readonly extensionRef: HttpRouteExtensionRef };

/** Filters applied only to requests sent to this backend, after the rule's. */
interface BackendFilters {
  readonly filters?: readonly HttpRouteFilter[];
}

/** A cdk8s-plus Service (its only port), `{ service, port?, weight?, filters? }`, or a reference by name. */
export type HttpRouteBackend = kplus.Service | (ServiceBackendOptions & BackendFilters) | (BackendReferenceOptions & BackendFilters);

export interface HttpRouteTimeouts {
  /** The whole request, e.g. "10s"; "0s" means none. */
  readonly request?: string;
  /** One try to a backend, e.g. "2s"; at most `request`. */
  readonly backendRequest?: string;
}

export interface HttpRouteRuleOptions {
  /** The rule's name (an RFC 1123 subdomain), for status, logs and metrics. */
  readonly name?: string;
  /** @default one match: PathPrefix "/" (the CRD default; left out of the manifest) */
  readonly matches?: readonly HttpRouteMatch[];
  readonly filters?: readonly HttpRouteFilter[];
  /** None: requests get 500, unless a RequestRedirect filter answers them. */
  readonly backends?: readonly HttpRouteBackend[];
  readonly timeouts?: HttpRouteTimeouts;
}

export interface HttpRouteProps {
  readonly metadata?: ApiObjectMetadata;
  readonly parents?: readonly HttpRouteParent[];
  /** Host names this route serves (0..16; exact or `*.` wildcard). @default every host of the listeners */
  readonly hostnames?: readonly string[];
  /** @default one rule matching every request, with no backends (the CRD default: 500) */
  readonly rules?: readonly HttpRouteRuleOptions[];
  /**
   * Write ReferenceGrants for backends and mirror backends in other namespaces when the
   * Service is a construct of this app (a `BackendReferenceOptions` decides with its own
   * `referenceGrant`).
   * @default true
   */
  readonly referenceGrants?: boolean;
}

/** A mirror backend in the rule, with the field it is rendered at. */
interface MirrorBackendAt {
  readonly backend: HttpRouteMirrorBackend;
  readonly field: string;
}

export class HttpRoute extends Construct {
  /** The generated `gateway.networking.k8s.io/v1` HTTPRoute this construct renders. */
  readonly apiObject: gwapi.HttpRoute;
  private readonly props: HttpRouteProps;
  private readonly parents: HttpRouteParent[] = [];
  private readonly hostnames: string[] = [];
  private readonly rules: HttpRouteRuleOptions[] = [];
  private readonly buildIssues: ValidationIssue[] = [];

  constructor(scope: Construct, id: string, props: HttpRouteProps = {}) {
    super(scope, id);
    this.props = props;
    this.apiObject = new gwapi.HttpRoute(this, 'Resource', {
      metadata: props.metadata,
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    });
    for (const parent of props.parents ?? []) this.addParent(parent);
    this.addHostnames(...(props.hostnames ?? []));
    for (const rule of props.rules ?? []) this.addRule(rule);
    this.node.addValidation({
      validate: () => {
        const spec = this.renderSpec();
        return [
          ...validateMetadata(this.name, this.namespace),
          ...validateHttpRouteSpec(spec),
          ...checkHttpRouteSemantics(spec),
          ...this.checkServicePorts(),
          ...checkParents(this.context, this.parents, this.hostnames),
          ...this.buildIssues,
        ].map(formatIssue);
      },
    });
  }

  get name(): string {
    return this.apiObject.name;
  }

  get namespace(): string | undefined {
    return this.apiObject.metadata.namespace;
  }

  addParent(parent: HttpRouteParent): void {
    this.parents.push(parent);
  }

  addHostnames(...hostnames: string[]): void {
    this.hostnames.push(...hostnames);
  }

  /** Adds a rule after the existing ones (rule order breaks ties between equally specific matches). */
  addRule(rule: HttpRouteRuleOptions): void {
    const index = this.rules.length;
    this.rules.push(rule);
    const grants = this.props.referenceGrants ?? true;
    const f = `spec.rules[${index}]`;
    (rule.backends ?? []).forEach((backend, b) => this.keep(grantBackend(this.context, backend, grants, `${f}.backendRefs[${b}]`)));
    for (const { backend, field } of mirrorBackends(rule, f)) this.keep(grantBackend(this.context, backend as RouteBackend, grants, field));
  }

  /** The spec as it will be synthesized. */
  renderSpec(): gwapi.HttpRouteSpec {
    return {
      ...(this.parents.length > 0 ? { parentRefs: this.parents.map((p) => renderParentRef(this.context, p)) } : {}),
      ...(this.hostnames.length > 0 ? { hostnames: [...this.hostnames] } : {}),
      ...(this.rules.length > 0 ? { rules: this.rules.map((r) => this.renderRule(r)) } : {}),
    };
  }

  private renderRule(rule: HttpRouteRuleOptions): gwapi.HttpRouteSpecRules {
    return {
      ...(rule.name !== undefined ? { name: rule.name } : {}),
      ...(rule.matches !== undefined ? { matches: structuredClone(rule.matches) as gwapi.HttpRouteSpecRulesMatches[] } : {}),
      ...(rule.filters !== undefined ? { filters: this.renderFilters(rule.filters) } : {}),
      ...(rule.backends !== undefined ? { backendRefs: rule.backends.map((b) => this.renderBackend(b)) } : {}),
      ...(rule.timeouts !== undefined ? { timeouts: { ...rule.timeouts } } : {}),
    };
  }

  private renderBackend(backend: HttpRouteBackend): gwapi.HttpRouteSpecRulesBackendRefs {
    const ref = renderBackendRef(this.context, backend);
    const filters = backend instanceof kplus.Service ? undefined : backend.filters;
    // Per-backend filters have the rule filters' schema; the generated types differ only in their enum names.
    const rendered = filters !== undefined ? (this.renderFilters(filters) as unknown as gwapi.HttpRouteSpecRulesBackendRefsFilters[]) : undefined;
    return { ...ref, ...(rendered !== undefined ? { filters: rendered } : {}) };
  }

  /** Copies the filters as written (invalid combinations included: the validators report them). */
  private renderFilters(filters: readonly HttpRouteFilter[]): gwapi.HttpRouteSpecRulesFilters[] {
    return filters.map((filter) => {
      if (!('requestMirror' in filter) || filter.requestMirror === undefined) return structuredClone(filter) as gwapi.HttpRouteSpecRulesFilters;
      const { backend, ...mirror } = filter.requestMirror;
      return {
        ...structuredClone({ ...filter, requestMirror: mirror }),
        requestMirror: { ...structuredClone(mirror), ...(backend !== undefined ? { backendRef: renderBackendRef(this.context, backend as RouteBackend) } : {}) },
      } as gwapi.HttpRouteSpecRulesFilters;
    });
  }

  /** A cdk8s-plus Service backend or mirror backend must name one of the Service's ports. */
  private checkServicePorts(): ValidationIssue[] {
    return this.rules.flatMap((rule, r) => {
      const f = `spec.rules[${r}]`;
      return [
        ...(rule.backends ?? []).flatMap((b, i) => checkServicePort(b, `${f}.backendRefs[${i}].port`) ?? []),
        ...mirrorBackends(rule, f).flatMap(({ backend, field }) => checkServicePort(backend as RouteBackend, `${field}.port`) ?? []),
      ];
    });
  }

  private keep(issue: ValidationIssue | undefined): void {
    if (issue) this.buildIssues.push(issue);
  }

  private get context(): RouteContext {
    return { scope: this, kind: 'HTTPRoute', namespace: this.namespace };
  }
}

/** Every RequestMirror backend of a rule (rule filters and per-backend filters), with its field. */
function mirrorBackends(rule: HttpRouteRuleOptions, f: string): MirrorBackendAt[] {
  const found: MirrorBackendAt[] = [];
  const scan = (filters: readonly HttpRouteFilter[] | undefined, g: string): void =>
    (filters ?? []).forEach((filter, i) => {
      const backend = 'requestMirror' in filter ? filter.requestMirror?.backend : undefined;
      if (backend !== undefined) found.push({ backend, field: `${g}[${i}].requestMirror.backendRef` });
    });
  scan(rule.filters, `${f}.filters`);
  (rule.backends ?? []).forEach((b, i) => scan(b instanceof kplus.Service ? undefined : b.filters, `${f}.backendRefs[${i}].filters`));
  return found;
}
