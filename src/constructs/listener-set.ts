// ListenerSet (gateway.networking.k8s.io/v1, GEP-1713): listeners a team adds to a shared
// Gateway that allows it, with certificates kept in the team's own namespace. Routes attach to
// the set (or one of its listeners) as they attach to a Gateway.
import { ApiObjectMetadata, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, type IConstruct } from 'constructs';
import * as gwapi from '../../imports/gwapi-gateway.networking.k8s.io.js';
import { Gateway, grantListenerCertificate, renderListener, type GatewayListenerOptions } from './gateway.js';
import { findInApp, referenceNamespace } from './namespaces.js';
import { formatIssue, type ValidationIssue } from './validation/issues.js';
import { checkListenerSemantics } from './validation/listener-semantics.js';
import { checkConflictsWith, checkParentAllows, validateListenerSetSpec, type ListenerSetParentRefSpec } from './validation/listener-set-rules.js';
import { validateMetadata } from './validation/metadata-rules.js';

/** A Gateway that is not a construct of this app. */
export interface ParentGatewayReferenceOptions {
  readonly name: string;
  /** @default the ListenerSet's namespace */
  readonly namespace?: string;
}

export interface ListenerSetProps {
  readonly metadata?: ApiObjectMetadata;
  /** The Gateway the listeners join: a Gateway construct, or one by name. */
  readonly parent: Gateway | ParentGatewayReferenceOptions;
  /** Names are unique within the set only (a Gateway's or another set's may repeat them). */
  readonly listeners?: readonly GatewayListenerOptions[];
  /**
   * Write ReferenceGrants (from this ListenerSet) for certificates in other namespaces when the
   * Secret is a construct of this app; a Gateway's grants do not cover its ListenerSets.
   * @default true
   */
  readonly referenceGrants?: boolean;
}

/** A named listener of a ListenerSet, as a route parent (`sectionName`). */
export class ListenerSetListener {
  constructor(readonly listenerSet: ListenerSet, readonly name: string) {}
}

/** The listeners of a ListenerSet on one port, as a route parent (`port`). */
export class ListenerSetPort {
  constructor(readonly listenerSet: ListenerSet, readonly port: number) {}
}

/** The ListenerSets of each app in construction order, for the checks between siblings. */
const setsByApp = new WeakMap<IConstruct, ListenerSet[]>();

export class ListenerSet extends Construct {
  /** Every ListenerSet construct of the app `scope` belongs to, in construction order. */
  static allInApp(scope: IConstruct): readonly ListenerSet[] {
    return setsByApp.get(scope.node.root) ?? [];
  }

  /** The generated `gateway.networking.k8s.io/v1` ListenerSet this construct renders. */
  readonly apiObject: gwapi.ListenerSet;
  private readonly props: ListenerSetProps;
  private readonly listenerOptions: GatewayListenerOptions[] = [];
  private readonly buildIssues: ValidationIssue[] = [];

  constructor(scope: Construct, id: string, props: ListenerSetProps) {
    super(scope, id);
    this.props = props;
    const root = this.node.root;
    const known = setsByApp.get(root);
    if (known) known.push(this);
    else setsByApp.set(root, [this]);
    this.apiObject = new gwapi.ListenerSet(this, 'Resource', {
      metadata: props.metadata,
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    });
    for (const listener of props.listeners ?? []) this.addListener(listener);
    this.node.addValidation({
      validate: () => {
        const spec = this.renderSpec();
        const listeners = this.renderListeners();
        return [
          ...validateMetadata(this.name, this.namespace),
          ...validateListenerSetSpec({ parentRef: spec.parentRef, listeners }),
          ...checkListenerSemantics(listeners),
          ...this.checkAgainstParent(listeners),
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

  /** The parent Gateway construct, when it is one of this app. */
  get parentGateway(): Gateway | undefined {
    const parent = this.props.parent;
    if (parent instanceof Gateway) return parent;
    const namespace = parent.namespace ?? this.namespace;
    return Gateway.allInApp(this).find((g) => g.name === parent.name && g.namespace === namespace);
  }

  /** Adds a listener and returns it as a route parent. */
  addListener(options: GatewayListenerOptions): ListenerSetListener {
    const index = this.listenerOptions.length;
    this.listenerOptions.push(options);
    (options.certificates ?? []).forEach((cert, i) => {
      const issue = grantListenerCertificate(this, 'ListenerSet', this.namespace, this.props.referenceGrants ?? true, cert, `spec.listeners[${index}].tls.certificateRefs[${i}]`);
      if (issue) this.buildIssues.push(issue);
    });
    return new ListenerSetListener(this, options.name);
  }

  /** The listener `name` as a route parent; a missing listener is reported at synth. */
  listener(name: string): ListenerSetListener {
    return new ListenerSetListener(this, name);
  }

  /** The listeners on `port` as a route parent; a port without listener is reported at synth. */
  port(port: number): ListenerSetPort {
    return new ListenerSetPort(this, port);
  }

  /** The listeners as they will be synthesized (the Gateway listener shape: ListenerEntry has the same fields). */
  renderListeners(): gwapi.GatewaySpecListeners[] {
    return this.listenerOptions.map((o) => renderListener(o, this.namespace));
  }

  renderSpec(): gwapi.ListenerSetSpec {
    return { parentRef: this.renderParentRef(), listeners: this.renderListeners() as unknown as gwapi.ListenerSetSpecListeners[] };
  }

  private renderParentRef(): gwapi.ListenerSetSpecParentRef & ListenerSetParentRefSpec {
    const parent = this.props.parent;
    const name = parent.name;
    const namespace = parent instanceof Gateway ? referenceNamespace(this.namespace, parent.namespace) : parent.namespace;
    // Group and kind are written although they are the CRD defaults: a reader sees what the set joins.
    return { group: 'gateway.networking.k8s.io', kind: 'Gateway', name, ...(namespace !== undefined ? { namespace } : {}) };
  }

  /** What only the parent can tell: it allows this set, and no listener conflicts with one that takes precedence. */
  private checkAgainstParent(listeners: readonly gwapi.GatewaySpecListeners[]): ValidationIssue[] {
    const gateway = this.parentGateway;
    if (!gateway) return [];
    const issues: ValidationIssue[] = [];
    const allowed = checkParentAllows(
      { name: gateway.name, namespace: gateway.namespace, allowedListeners: gateway.allowedListeners, listeners: gateway.renderListeners() },
      this.namespace,
      () => this.namespaceLabels(),
    );
    if (allowed) return [allowed];
    const gatewayLabel = `Gateway "${gateway.namespace ? `${gateway.namespace}/` : ''}${gateway.name}"`;
    const earlier = [
      ...gateway.renderListeners().map((listener) => ({ owner: gatewayLabel, listener })),
      // Sets of this app defined before this one: their precedence at runtime is by age, so the later one is reported.
      ...ListenerSet.allInApp(this)
        .slice(0, ListenerSet.allInApp(this).indexOf(this))
        .filter((s) => s.parentGateway === gateway)
        .flatMap((s) => s.renderListeners().map((listener) => ({ owner: `ListenerSet "${s.namespace ? `${s.namespace}/` : ''}${s.name}"`, listener }))),
    ];
    issues.push(...checkConflictsWith(listeners, earlier));
    return issues;
  }

  /** Labels of this set's namespace when the app defines that Namespace (for a Selector parent). */
  private namespaceLabels(): Record<string, string> | undefined {
    if (this.namespace === undefined) return undefined;
    const ns = findInApp(this, kplus.Namespace).find((n) => n.name === this.namespace);
    if (!ns) return undefined;
    const labels = (ns.metadata.toJson() as { labels?: Record<string, string> }).labels ?? {};
    return { ...labels, 'kubernetes.io/metadata.name': ns.name };
  }
}
