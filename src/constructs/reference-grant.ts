// ReferenceGrant: lets objects in other namespaces refer to objects in this one (TLSRoute →
// Service, Gateway → Secret). It lives in the namespace of the objects it grants access to.
import { ApiObjectMetadata, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import * as gwapi from '../../imports/gwapi-gateway.networking.k8s.io.js';
import { validateMetadata } from './validation/metadata-rules.js';
import { formatIssue } from './validation/issues.js';
import { validateReferenceGrantSpec } from './validation/reference-grant-rules.js';

/** Who may refer: every object of `group`/`kind` in `namespace`. */
export interface ReferenceGrantFrom {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

/** What they may refer to: objects of `group`/`kind` here, all of them or only `name`. */
export interface ReferenceGrantTo {
  readonly group: string;
  readonly kind: string;
  readonly name?: string;
}

export interface ReferenceGrantProps {
  /** Metadata; `namespace` is the namespace of the objects the grant opens up. */
  readonly metadata?: ApiObjectMetadata;
  readonly from?: ReferenceGrantFrom[];
  readonly to?: ReferenceGrantTo[];
}

export class ReferenceGrant extends Construct {
  /** The generated `gateway.networking.k8s.io/v1` ReferenceGrant this construct renders. */
  readonly apiObject: gwapi.ReferenceGrant;
  private readonly fromEntries: ReferenceGrantFrom[];
  private readonly toEntries: ReferenceGrantTo[];

  constructor(scope: Construct, id: string, props: ReferenceGrantProps = {}) {
    super(scope, id);
    this.fromEntries = [...(props.from ?? [])];
    this.toEntries = [...(props.to ?? [])];
    this.apiObject = new gwapi.ReferenceGrant(this, 'Resource', {
      metadata: props.metadata,
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    });
    this.node.addValidation({ validate: () => [...validateMetadata(this.name, this.namespace), ...validateReferenceGrantSpec(this.renderSpec())].map(formatIssue) });
  }

  get name(): string {
    return this.apiObject.name;
  }

  get namespace(): string | undefined {
    return this.apiObject.metadata.namespace;
  }

  addFrom(from: ReferenceGrantFrom): void {
    this.fromEntries.push(from);
  }

  addTo(to: ReferenceGrantTo): void {
    this.toEntries.push(to);
  }

  /** The spec as it will be synthesized. */
  renderSpec(): gwapi.ReferenceGrantSpec {
    return {
      from: this.fromEntries.map((f) => ({ group: f.group, kind: f.kind, namespace: f.namespace })),
      to: this.toEntries.map((t) => (t.name === undefined ? { group: t.group, kind: t.kind } : { group: t.group, kind: t.kind, name: t.name })),
    };
  }
}
