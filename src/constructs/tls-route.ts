// TLSRoute: SNI hostnames of one or more Gateway listeners, forwarded to weighted backends.
import { ApiObjectMetadata, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import * as gwapi from '../../imports/gwapi-gateway.networking.k8s.io.js';
import { grantCrossNamespace, type GrantTarget } from './auto-grants.js';
import { Gateway, GatewayListener, GatewayPort } from './gateway.js';
import { findInApp, referenceNamespace } from './namespaces.js';
import { checkAttachment, type ParentGatewayView } from './validation/attachment.js';
import { validateMetadata } from './validation/metadata-rules.js';
import { formatIssue, type ValidationIssue } from './validation/issues.js';
import { GATEWAY_GROUP } from './validation/patterns.js';
import { validateTlsRouteSpec } from './validation/tls-route-rules.js';

/** A parent that is not a construct of this app (or one named explicitly). */
export interface ParentReferenceOptions {
  readonly name: string;
  /** @default the route's namespace */
  readonly namespace?: string;
  readonly sectionName?: string;
  readonly port?: number;
  /** @default "gateway.networking.k8s.io" */
  readonly group?: string;
  /** @default "Gateway" */
  readonly kind?: string;
}

/**
 * Where the route attaches: a whole Gateway, one listener of it (`gateway.listener('tls')`,
 * or what `addListener` returned), its listeners on one port (`gateway.port(443)`), or a
 * reference by name.
 */
export type TlsRouteParent = Gateway | GatewayListener | GatewayPort | ParentReferenceOptions;

/** A cdk8s-plus Service with the port to use and a weight. */
export interface ServiceBackendOptions {
  readonly service: kplus.Service;
  /** The Service port (not the targetPort). @default the Service's only port */
  readonly port?: number;
  /** Share of connections, 0..1,000,000. @default 1 (the CRD default; left out of the manifest) */
  readonly weight?: number;
}

/** A backend that is not a construct of this app. */
export interface BackendReferenceOptions {
  readonly name: string;
  /** @default the route's namespace */
  readonly namespace?: string;
  /** The Service port (not the targetPort); required for Services. */
  readonly port?: number;
  readonly weight?: number;
  /** @default "" (core) */
  readonly group?: string;
  /** @default "Service" */
  readonly kind?: string;
  /** Write a ReferenceGrant for it when it is in another namespace. @default false */
  readonly referenceGrant?: boolean;
}

export type TlsRouteBackend = kplus.Service | ServiceBackendOptions | BackendReferenceOptions;

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
      validate: () => [...validateMetadata(this.name, this.namespace), ...validateTlsRouteSpec(this.renderSpec()), ...this.checkBackends(), ...this.checkParents(), ...this.buildIssues].map(formatIssue),
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
    this.grantBackend(backend, `spec.rules[0].backendRefs[${index}]`);
  }

  /** The spec as it will be synthesized. */
  renderSpec(): gwapi.TlsRouteSpec {
    const rule: gwapi.TlsRouteSpecRules = {
      ...(this.props.ruleName !== undefined ? { name: this.props.ruleName } : {}),
      backendRefs: this.backends.map((b) => this.renderBackend(b)),
    };
    return {
      ...(this.parents.length > 0 ? { parentRefs: this.parents.map((p) => this.renderParent(p)) } : {}),
      hostnames: [...this.hostnames],
      rules: [rule],
    };
  }

  private renderParent(parent: TlsRouteParent): gwapi.TlsRouteSpecParentRefs {
    if (parent instanceof Gateway) return this.gatewayRef(parent);
    if (parent instanceof GatewayListener) return { ...this.gatewayRef(parent.gateway), sectionName: parent.name };
    if (parent instanceof GatewayPort) return { ...this.gatewayRef(parent.gateway), port: parent.port };
    const { name, namespace, sectionName, port, group, kind } = parent;
    return {
      ...(group !== undefined ? { group } : {}),
      ...(kind !== undefined ? { kind } : {}),
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(sectionName !== undefined ? { sectionName } : {}),
      ...(port !== undefined ? { port } : {}),
    };
  }

  private gatewayRef(gateway: Gateway): gwapi.TlsRouteSpecParentRefs {
    const namespace = referenceNamespace(this.namespace, gateway.namespace);
    return { name: gateway.name, ...(namespace ? { namespace } : {}) };
  }

  private renderBackend(backend: TlsRouteBackend): gwapi.TlsRouteSpecRulesBackendRefs {
    if (backend instanceof kplus.Service) return this.serviceRef(backend, undefined, undefined);
    if ('service' in backend) return this.serviceRef(backend.service, backend.port, backend.weight);
    const { name, namespace, port, weight, group, kind } = backend;
    return {
      ...(group !== undefined ? { group } : {}),
      ...(kind !== undefined ? { kind } : {}),
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(weight !== undefined ? { weight } : {}),
    };
  }

  private serviceRef(service: kplus.Service, port: number | undefined, weight: number | undefined): gwapi.TlsRouteSpecRulesBackendRefs {
    const namespace = referenceNamespace(this.namespace, service.metadata.namespace);
    const ports = service.ports;
    const chosen = port ?? (ports.length === 1 ? ports[0]!.port : undefined);
    return {
      name: service.name,
      ...(namespace ? { namespace } : {}),
      ...(chosen !== undefined ? { port: chosen } : {}),
      ...(weight !== undefined ? { weight } : {}),
    };
  }

  /** A cdk8s-plus Service backend must name one of the Service's ports. */
  private checkBackends(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    this.backends.forEach((backend, i) => {
      const service = backend instanceof kplus.Service ? backend : 'service' in backend ? backend.service : undefined;
      if (!service) return;
      const port = backend instanceof kplus.Service ? undefined : (backend as ServiceBackendOptions).port;
      const ports = service.ports.map((p) => p.port);
      const field = `spec.rules[0].backendRefs[${i}].port`;
      if (port === undefined && ports.length !== 1) {
        issues.push({
          field,
          message: `Service "${service.name}" has ${ports.length === 0 ? 'no ports' : `${ports.length} ports (${ports.join(', ')})`}, so the backend port cannot be chosen for you`,
          fix: ports.length === 0 ? 'bind a port on the Service, or give {service, port}' : 'give the backend as {service, port} with one of its ports',
        });
      } else if (port !== undefined && !ports.includes(port)) {
        issues.push({
          field,
          message: `Service "${service.name}" has no port ${port} (ports: ${ports.join(', ') || 'none'}); backendRefs name the Service port, not the targetPort`,
          fix: `use one of the Service's ports (${ports.join(', ') || 'bind one first'})`,
        });
      }
    });
    return issues;
  }

  /** Semantic attachment checks for every parent that is a Gateway of this app. */
  private checkParents(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    let labels: { value: Record<string, string> | undefined } | undefined;
    const routeNamespaceLabels = (): Record<string, string> | undefined => (labels ??= { value: this.routeNamespaceLabels() }).value;
    this.parents.forEach((parent, i) => {
      const gateway = this.resolveGateway(parent);
      if (!gateway) return;
      const ref = this.renderParent(parent);
      const view: ParentGatewayView = { name: gateway.name, namespace: gateway.namespace, listeners: gateway.renderListeners() };
      const problem = checkAttachment(view, {
        field: `spec.parentRefs[${i}]`,
        sectionName: ref.sectionName,
        port: ref.port,
        routeNamespace: this.namespace,
        routeNamespaceLabels,
        hostnames: this.hostnames,
      });
      if (problem) issues.push(problem);
    });
    return issues;
  }

  private resolveGateway(parent: TlsRouteParent): Gateway | undefined {
    if (parent instanceof Gateway) return parent;
    if (parent instanceof GatewayListener || parent instanceof GatewayPort) return parent.gateway;
    if ((parent.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (parent.kind ?? 'Gateway') !== 'Gateway') return undefined;
    const namespace = parent.namespace ?? this.namespace;
    return Gateway.allInApp(this).find((g) => g.name === parent.name && g.namespace === namespace);
  }

  /** Labels of the route's namespace when the app defines that Namespace (for Selector listeners). */
  private routeNamespaceLabels(): Record<string, string> | undefined {
    if (this.namespace === undefined) return undefined;
    const ns = findInApp(this, kplus.Namespace).find((n) => n.name === this.namespace);
    if (!ns) return undefined;
    const labels = (ns.metadata.toJson() as { labels?: Record<string, string> }).labels ?? {};
    // The API server labels every Namespace with its name; selectors often use it.
    return { ...labels, 'kubernetes.io/metadata.name': ns.name };
  }

  /** Writes the ReferenceGrant a backend in another namespace needs, when asked to. */
  private grantBackend(backend: TlsRouteBackend, field: string): void {
    let target: GrantTarget;
    const service = backend instanceof kplus.Service ? backend : 'service' in backend ? backend.service : undefined;
    if (service) target = { namespace: service.metadata.namespace, name: service.name, wanted: this.props.referenceGrants ?? true };
    else {
      const ref = backend as BackendReferenceOptions;
      if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service') return;
      target = { namespace: ref.namespace, name: ref.name, wanted: ref.referenceGrant ?? false };
    }
    const issue = grantCrossNamespace(this, { fromKind: 'TLSRoute', fromNamespace: this.namespace, toKind: 'Service' }, target, field, {
      target: 'backend Service',
      owner: 'TLSRoute',
      ownerInFix: 'the route',
    });
    if (issue) this.buildIssues.push(issue);
  }
}
