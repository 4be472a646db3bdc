// TLSRoute: SNI hostnames of one or more Gateway listeners, forwarded to weighted backends.
import { ApiObjectMetadata, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import * as gwapi from '../../imports/gwapi-gateway.networking.k8s.io.js';
import {
  checkParents,
  checkServicePort,
  grantBackend,
  renderBackendRef,
  renderParentRef,
  type RouteBackend,
  type RouteContext,
  type RouteParent,
} from './route-refs.js';
import { validateMetadata } from './validation/metadata-rules.js';
import { formatIssue, type ValidationIssue } from './validation/issues.js';
import { validateTlsRouteSpec } from './validation/tls-route-rules.js';

export type { BackendReferenceOptions, ParentReferenceOptions, ServiceBackendOptions } from './route-refs.js';

/**
 * Where the route attaches: a whole Gateway, one listener of it (`gateway.listener('tls')`,
 * or what `addListener` returned), its listeners on one port (`gateway.port(443)`), or a
 * reference by name.
 */
export type TlsRouteParent = RouteParent;

export type TlsRouteBackend = RouteBackend;

export interface TlsRouteProps {
  readonly metadata?: ApiObjectMetadata;
  readonly parents?: readonly TlsRouteParent[];
  /** The SNI names this route serves (1..1024; exact or `*.` wildcard). */
  readonly hostnames?: readonly string[];
  readonly backends?: readonly TlsRouteBackend[];
  /** Optional name of the route's single rule. */
  readonly ruleName?: string;
  /**
   * Write ReferenceGrants for backends in other namespaces when the Service is a construct
   * of this app (a `BackendReferenceOptions` decides with its own `referenceGrant`).
   * @default true
   */
  readonly referenceGrants?: boolean;
}

export class TlsRoute extends Construct {
  /** The generated `gateway.networking.k8s.io/v1` TLSRoute this construct renders. */
  readonly apiObject: gwapi.TlsRoute;
  private readonly props: TlsRouteProps;
  private readonly parents: TlsRouteParent[] = [];
  private readonly hostnames: string[] = [];
  private readonly backends: TlsRouteBackend[] = [];
  private readonly buildIssues: ValidationIssue[] = [];

  constructor(scope: Construct, id: string, props: TlsRouteProps = {}) {
    super(scope, id);
    this.props = props;
    this.apiObject = new gwapi.TlsRoute(this, 'Resource', {
      metadata: props.metadata,
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    });
    for (const parent of props.parents ?? []) this.addParent(parent);
    this.addHostnames(...(props.hostnames ?? []));
    for (const backend of props.backends ?? []) this.addBackend(backend);
    this.node.addValidation({
      validate: () => [
        ...validateMetadata(this.name, this.namespace),
        ...validateTlsRouteSpec(this.renderSpec()),
        ...this.backends.flatMap((b, i) => checkServicePort(b, `spec.rules[0].backendRefs[${i}].port`) ?? []),
        ...checkParents(this.context, this.parents, this.hostnames),
        ...this.buildIssues,
      ].map(formatIssue),
    });
  }

  get name(): string {
    return this.apiObject.name;
  }

  get namespace(): string | undefined {
    return this.apiObject.metadata.namespace;
  }

  addParent(parent: TlsRouteParent): void {
    this.parents.push(parent);
  }

  addHostnames(...hostnames: string[]): void {
    this.hostnames.push(...hostnames);
  }

  addBackend(backend: TlsRouteBackend): void {
    const index = this.backends.length;
    this.backends.push(backend);
    const issue = grantBackend(this.context, backend, this.props.referenceGrants ?? true, `spec.rules[0].backendRefs[${index}]`);
    if (issue) this.buildIssues.push(issue);
  }

  /** The spec as it will be synthesized. */
  renderSpec(): gwapi.TlsRouteSpec {
    const rule: gwapi.TlsRouteSpecRules = {
      ...(this.props.ruleName !== undefined ? { name: this.props.ruleName } : {}),
      backendRefs: this.backends.map((b) => renderBackendRef(this.context, b)),
    };
    return {
      ...(this.parents.length > 0 ? { parentRefs: this.parents.map((p) => renderParentRef(this.context, p)) } : {}),
      hostnames: [...this.hostnames],
      rules: [rule],
    };
  }

  private get context(): RouteContext {
    return { scope: this, kind: 'TLSRoute', namespace: this.namespace };
  }
}
