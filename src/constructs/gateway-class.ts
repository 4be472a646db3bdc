// GatewayClass: names the controller that serves the Gateways of this class.
import { ApiObjectMetadata, JsonPatch, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import * as gwapi from '../../imports/gwapi-gateway.networking.k8s.io.js';
import { CONTROLLER_NAME } from '../gatewayapi/translate.js';
import { validateGatewayClassSpec } from './validation/gateway-class-rules.js';
import { validateMetadata } from './validation/metadata-rules.js';
import { formatIssue } from './validation/issues.js';

export interface GatewayClassParametersRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface GatewayClassProps {
  readonly metadata?: ApiObjectMetadata;
  /** The controller that serves this class. @default "tlsgate.dev/gateway-controller" (tlsgate's operator) */
  readonly controllerName?: string;
  /** Human-readable description, at most 64 characters. */
  readonly description?: string;
  /** Implementation-specific parameters for the class. */
  readonly parametersRef?: GatewayClassParametersRef;
}

export class GatewayClass extends Construct {
  /** The generated `gateway.networking.k8s.io/v1` GatewayClass this construct renders. */
  readonly apiObject: gwapi.GatewayClass;
  readonly controllerName: string;
  private readonly props: GatewayClassProps;

  constructor(scope: Construct, id: string, props: GatewayClassProps = {}) {
    super(scope, id);
    this.props = props;
    this.controllerName = props.controllerName ?? CONTROLLER_NAME;
    this.apiObject = new gwapi.GatewayClass(this, 'Resource', {
      metadata: props.metadata,
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    });
    // GatewayClass is cluster-scoped: a Chart namespace must not leak into its metadata.
    if (this.apiObject.metadata.namespace !== undefined) this.apiObject.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    this.node.addValidation({ validate: () => [...validateMetadata(this.name, undefined), ...validateGatewayClassSpec(this.renderSpec())].map(formatIssue) });
  }

  /** The class name Gateways refer to (`spec.gatewayClassName`). */
  get name(): string {
    return this.apiObject.name;
  }

  renderSpec(): gwapi.GatewayClassSpec {
    const { description, parametersRef } = this.props;
    return {
      controllerName: this.controllerName,
      ...(description !== undefined ? { description } : {}),
      ...(parametersRef !== undefined ? { parametersRef: { ...parametersRef } } : {}),
    };
  }
}
