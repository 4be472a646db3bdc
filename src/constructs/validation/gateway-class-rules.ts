// Schema and CEL rules of the v1.6.1 GatewayClass CRD (v1), checked on the spec a
// GatewayClass construct renders. The immutability rule on controllerName (`self ==
// oldSelf`) needs the stored object and cannot be checked at synth time.
import type { GatewayClassSpec } from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import { IssueCollector, type ValidationIssue } from './issues.js';
import { CONTROLLER_NAME_PATTERN, GROUP, KIND, NAMESPACE } from './patterns.js';

export function validateGatewayClassSpec(spec: GatewayClassSpec): ValidationIssue[] {
  const c = new IssueCollector();
  if (c.required('spec.controllerName', spec.controllerName, 'set controllerName, e.g. "tlsgate.dev/gateway-controller"')) {
    c.string('spec.controllerName', spec.controllerName, {
      minLength: 1,
      maxLength: 253,
      pattern: CONTROLLER_NAME_PATTERN,
      patternName: 'a domain-prefixed path such as "example.com/controller"',
    });
  }
  c.string('spec.description', spec.description, { maxLength: 64 });
  const ref = spec.parametersRef;
  if (ref) {
    const f = 'spec.parametersRef';
    c.required(`${f}.group`, ref.group, 'set the group of the parameters resource ("" for core)');
    c.string(`${f}.group`, ref.group, { maxLength: 253, pattern: GROUP, patternName: 'empty or an RFC 1123 subdomain' });
    if (c.required(`${f}.kind`, ref.kind, 'set the kind of the parameters resource')) {
      c.string(`${f}.kind`, ref.kind, { minLength: 1, maxLength: 63, pattern: KIND, patternName: 'a Kind name' });
    }
    if (c.required(`${f}.name`, ref.name, 'set the name of the parameters resource')) {
      c.string(`${f}.name`, ref.name, { minLength: 1, maxLength: 253 });
    }
    c.string(`${f}.namespace`, ref.namespace, { minLength: 1, maxLength: 63, pattern: NAMESPACE, patternName: 'an RFC 1123 label' });
  }
  return c.issues;
}
