// Gateway: listeners that accept TLS connections and hand them to TLSRoutes, and HTTP and
// HTTPS listeners that hand requests to HTTPRoutes.
import { ApiObjectMetadata, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, type IConstruct } from 'constructs';
import * as gwapi from '../../imports/gwapi-gateway.networking.k8s.io.js';
import { grantCrossNamespace, type GrantTarget } from './auto-grants.js';
import { GatewayClass } from './gateway-class.js';
import { referenceNamespace } from './namespaces.js';
import { validateGatewaySpec } from './validation/gateway-rules.js';
import { validateMetadata } from './validation/metadata-rules.js';
import { formatIssue, type ValidationIssue } from './validation/issues.js';
import { checkListenerSemantics } from './validation/listener-semantics.js';

export type ListenerTlsMode = 'Passthrough' | 'Terminate';

/** The core protocols, or a domain-prefixed one such as "example.com/proto". */
// `string & {}` keeps editor completion for the core names while allowing any string.
export type ListenerProtocol = 'TLS' | 'HTTPS' | 'HTTP' | 'TCP' | 'UDP' | (string & {});

/** A label selector over Namespace labels (Kubernetes LabelSelector). */
export interface NamespaceLabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}

/** Which namespaces may attach routes: the Gateway's own, all, or those matching a selector. */
export type RouteNamespaces =
  | { readonly from: 'Same' }
  | { readonly from: 'All' }
  | { readonly from: 'Selector'; readonly selector: NamespaceLabelSelector };

export interface RouteKindOptions {
  /** @default "gateway.networking.k8s.io" */
  readonly group?: string;
  readonly kind: string;
}

export interface AllowedRoutesOptions {
  /** @default { from: 'Same' } (the CRD default; left out of the manifest when not given) */
  readonly namespaces?: RouteNamespaces;
  /** @default the kinds the protocol supports (TLSRoute for TLS, HTTPRoute for HTTP and HTTPS) */
  readonly kinds?: readonly RouteKindOptions[];
}

/** A certificate Secret that is not a cdk8s-plus construct in this app. */
export interface SecretReference {
  readonly name: string;
  /** @default the Gateway's namespace */
  readonly namespace?: string;
  /** @default "" (core) */
  readonly group?: string;
  /** @default "Secret" */
  readonly kind?: string;
  /** Write a ReferenceGrant for it when it is in another namespace. @default false */
  readonly referenceGrant?: boolean;
}

/** A cdk8s-plus Secret (for example a `TlsSecret`) or a reference to one by name. */
export type CertificateSource = kplus.ISecret | SecretReference;

export interface GatewayListenerOptions {
  /** Unique within the Gateway; routes select it as `sectionName`. */
  readonly name: string;
  readonly port: number;
  /**
   * `TLS` (TLSRoutes by SNI), `HTTPS` (HTTPRoutes, TLS terminated with `certificates`) or `HTTP`
   * (HTTPRoutes, plain text). HTTPS and TLS listeners may share a port (chosen by SNI); an HTTP
   * port takes only HTTP listeners. The others are accepted for completeness.
   * @default "TLS"
   */
  readonly protocol?: ListenerProtocol;
  /**
   * Required for TLS listeners (CRD rule); when left out there but certificates or tlsOptions
   * are given, the CRD default `Terminate` is written. HTTPS listeners always terminate: the
   * mode is written only when given (it can only be `Terminate`). HTTP listeners take none.
   */
  readonly mode?: ListenerTlsMode;
  /**
   * The SNI (TLS, HTTPS) or Host header (HTTP) this listener accepts: exact or `*.` wildcard;
   * none accepts every name.
   */
  readonly hostname?: string;
  /** Certificates for Terminate TLS listeners and HTTPS listeners (required for both). */
  readonly certificates?: readonly CertificateSource[];
  /** Implementation-specific TLS options (`tls.options`). */
  readonly tlsOptions?: Readonly<Record<string, string>>;
  readonly allowedRoutes?: AllowedRoutesOptions;
}

export interface GatewayAddressOptions {
  /** @default "IPAddress" */
  readonly type?: string;
  readonly value?: string;
}

export interface GatewayInfrastructureOptions {
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly parametersRef?: { readonly group: string; readonly kind: string; readonly name: string };
}

/**
 * Which namespaces' ListenerSets may add listeners to the Gateway (`spec.allowedListeners`):
 * none (the default), the Gateway's own, all, or those matching a selector.
 */
export type ListenerSetNamespaces =
  | { readonly from: 'None' }
  | { readonly from: 'Same' }
  | { readonly from: 'All' }
  | { readonly from: 'Selector'; readonly selector: NamespaceLabelSelector };

export interface GatewayProps {
  readonly metadata?: ApiObjectMetadata;
  /** The class: a GatewayClass construct or the name of one. */
  readonly gatewayClass: GatewayClass | string;
  readonly listeners?: readonly GatewayListenerOptions[];
  readonly addresses?: readonly GatewayAddressOptions[];
  readonly infrastructure?: GatewayInfrastructureOptions;
  /** ListenerSets from these namespaces may attach. @default none (the CRD default; left out of the manifest) */
  readonly allowedListeners?: ListenerSetNamespaces;
  /**
   * Write ReferenceGrants for certificates in other namespaces when the Secret is a
   * construct of this app (a `SecretReference` decides with its own `referenceGrant`).
   * @default true
   */
  readonly referenceGrants?: boolean;
}

/** A named listener of a Gateway, as a route parent (`sectionName`). */
export class GatewayListener {
  constructor(readonly gateway: Gateway, readonly name: string) {}
}

/** The listeners of a Gateway on one port, as a route parent (`port`). */
export class GatewayPort {
  constructor(readonly gateway: Gateway, readonly port: number) {}
}

/** The Gateways of each app, so that routes naming one find it without walking the tree. */
const gatewaysByApp = new WeakMap<IConstruct, Gateway[]>();

export class Gateway extends Construct {
  /** Every Gateway construct of the app `scope` belongs to. */
  static allInApp(scope: IConstruct): readonly Gateway[] {
    return gatewaysByApp.get(scope.node.root) ?? [];
  }

  /** The generated `gateway.networking.k8s.io/v1` Gateway this construct renders. */
  readonly apiObject: gwapi.Gateway;
  private readonly props: GatewayProps;
  private readonly listenerOptions: GatewayListenerOptions[] = [];
  /** Problems found while building (not in the spec), reported with the synth's others. */
  private readonly buildIssues: ValidationIssue[] = [];

  constructor(scope: Construct, id: string, props: GatewayProps) {
    super(scope, id);
    this.props = props;
    const root = this.node.root;
    const known = gatewaysByApp.get(root);
    if (known) known.push(this);
    else gatewaysByApp.set(root, [this]);
    this.apiObject = new gwapi.Gateway(this, 'Resource', {
      metadata: props.metadata,
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    });
    for (const listener of props.listeners ?? []) this.addListener(listener);
    this.node.addValidation({
      validate: () => {
        const spec = this.renderSpec();
        return [...validateMetadata(this.name, this.namespace), ...validateGatewaySpec(spec), ...checkListenerSemantics(spec.listeners), ...this.buildIssues].map(formatIssue);
      },
    });
  }

  get name(): string {
    return this.apiObject.name;
  }

  get namespace(): string | undefined {
    return this.apiObject.metadata.namespace;
  }

  get gatewayClassName(): string {
    const cls = this.props.gatewayClass;
    return typeof cls === 'string' ? cls : cls.name;
  }

  /** Adds a listener and returns it as a route parent. */
  addListener(options: GatewayListenerOptions): GatewayListener {
    const index = this.listenerOptions.length;
    this.listenerOptions.push(options);
    (options.certificates ?? []).forEach((cert, i) => this.grantCertificate(cert, `spec.listeners[${index}].tls.certificateRefs[${i}]`));
    return new GatewayListener(this, options.name);
  }

  /** The listener `name` as a route parent; a missing listener is reported at synth. */
  listener(name: string): GatewayListener {
    return new GatewayListener(this, name);
  }

  /** The listeners on `port` as a route parent; a port without listener is reported at synth. */
  port(port: number): GatewayPort {
    return new GatewayPort(this, port);
  }

  /** The listeners as they will be synthesized. */
  renderListeners(): gwapi.GatewaySpecListeners[] {
    return this.listenerOptions.map((o) => renderListener(o, this.namespace));
  }

  /** Which ListenerSets the Gateway allows (`None` when not given, as the CRD defaults it). */
  get allowedListeners(): ListenerSetNamespaces {
    return this.props.allowedListeners ?? { from: 'None' };
  }

  /** The spec as it will be synthesized. */
  renderSpec(): gwapi.GatewaySpec {
    const { addresses, infrastructure, allowedListeners } = this.props;
    return {
      gatewayClassName: this.gatewayClassName,
      listeners: this.renderListeners(),
      ...(allowedListeners !== undefined ? { allowedListeners: { namespaces: structuredClone(allowedListeners) as gwapi.GatewaySpecAllowedListenersNamespaces } } : {}),
      ...(addresses !== undefined ? { addresses: addresses.map((a) => ({ ...a })) } : {}),
      ...(infrastructure !== undefined ? { infrastructure: structuredClone(infrastructure) as gwapi.GatewaySpecInfrastructure } : {}),
    };
  }

  /** Writes the ReferenceGrant a certificate in another namespace needs, when asked to. */
  private grantCertificate(cert: CertificateSource, field: string): void {
    const issue = grantListenerCertificate(this, 'Gateway', this.namespace, this.props.referenceGrants ?? true, cert, field);
    if (issue) this.buildIssues.push(issue);
  }
}

/** A listener as it will be synthesized, certificates referred to from `ownerNamespace` (a Gateway's or a ListenerSet's). */
export function renderListener(o: GatewayListenerOptions, ownerNamespace: string | undefined): gwapi.GatewaySpecListeners {
  const tls = renderTls(o, ownerNamespace);
  const allowedRoutes = renderAllowedRoutes(o.allowedRoutes);
  return {
    name: o.name,
    port: o.port,
    protocol: o.protocol ?? 'TLS',
    ...(o.hostname !== undefined ? { hostname: o.hostname } : {}),
    ...(tls ? { tls } : {}),
    ...(allowedRoutes ? { allowedRoutes } : {}),
  };
}

function renderTls(o: GatewayListenerOptions, ownerNamespace: string | undefined): gwapi.GatewaySpecListenersTls | undefined {
  const certificateRefs = (o.certificates ?? []).map((c) => renderCertificateRef(c, ownerNamespace));
  const options = o.tlsOptions;
  if (o.mode === undefined && certificateRefs.length === 0 && options === undefined) return undefined;
  // A TLS listener's manifest says which of its two modes it uses; HTTPS has only Terminate.
  const mode = o.mode ?? ((o.protocol ?? 'TLS') === 'TLS' ? 'Terminate' : undefined);
  return {
    ...(mode !== undefined ? { mode: mode as gwapi.GatewaySpecListenersTlsMode } : {}),
    ...(certificateRefs.length > 0 ? { certificateRefs } : {}),
    ...(options !== undefined ? { options: { ...options } } : {}),
  };
}

function renderCertificateRef(cert: CertificateSource, ownerNamespace: string | undefined): gwapi.GatewaySpecListenersTlsCertificateRefs {
  if (cert instanceof kplus.Secret) {
    const namespace = referenceNamespace(ownerNamespace, cert.metadata.namespace);
    return { name: cert.name, ...(namespace ? { namespace } : {}) };
  }
  if (cert instanceof Construct) return { name: cert.name }; // an imported ISecret: same namespace
  const ref = cert as SecretReference;
  return {
    name: ref.name,
    ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}),
    ...(ref.group !== undefined ? { group: ref.group } : {}),
    ...(ref.kind !== undefined ? { kind: ref.kind } : {}),
  };
}

/**
 * Writes the ReferenceGrant a listener certificate in another namespace needs, when asked to
 * (`grantsForConstructs` for Secret constructs; a SecretReference decides with its own
 * `referenceGrant`). A ListenerSet's grants name the ListenerSet: a Gateway's are not inherited.
 */
export function grantListenerCertificate(
  owner: Construct,
  ownerKind: 'Gateway' | 'ListenerSet',
  ownerNamespace: string | undefined,
  grantsForConstructs: boolean,
  cert: CertificateSource,
  field: string,
): ValidationIssue | undefined {
  let target: GrantTarget;
  if (cert instanceof kplus.Secret) target = { namespace: cert.metadata.namespace, name: cert.name, wanted: grantsForConstructs };
  else if (cert instanceof Construct) return undefined;
  else {
    const ref = cert as SecretReference;
    if ((ref.group ?? '') !== '' || (ref.kind ?? 'Secret') !== 'Secret') return undefined;
    target = { namespace: ref.namespace, name: ref.name, wanted: ref.referenceGrant ?? false };
  }
  return grantCrossNamespace(owner, { fromKind: ownerKind, fromNamespace: ownerNamespace, toKind: 'Secret' }, target, field, {
    target: 'certificate Secret',
    owner: ownerKind,
    ownerInFix: `the ${ownerKind}`,
  });
}

function renderAllowedRoutes(a: AllowedRoutesOptions | undefined): gwapi.GatewaySpecListenersAllowedRoutes | undefined {
  if (!a || (a.namespaces === undefined && a.kinds === undefined)) return undefined;
  const namespaces = a.namespaces
    ? {
        from: a.namespaces.from as gwapi.GatewaySpecListenersAllowedRoutesNamespacesFrom,
        ...('selector' in a.namespaces && a.namespaces.selector !== undefined
          ? { selector: structuredClone(a.namespaces.selector) as gwapi.GatewaySpecListenersAllowedRoutesNamespacesSelector }
          : {}),
      }
    : undefined;
  return {
    ...(namespaces ? { namespaces } : {}),
    ...(a.kinds !== undefined ? { kinds: a.kinds.map((k) => ({ ...k })) } : {}),
  };
}
