// Shared helpers for the construct tests: synthesize in memory, collect the validation
// error of a synth, and validate objects against the CRDs' openAPIV3Schema with ajv.
import { readFileSync } from 'node:fs';
import { App, Chart, type ChartProps } from 'cdk8s';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { fromRoot } from '../../helpers/paths.js';

export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; spec?: unknown };

/** Builds one chart with `build` and synthesizes it; throws cdk8s's validation error. */
export function synth(build: (chart: Chart) => void, props: ChartProps = { disableResourceNameHashes: true }): KubeObject[] {
  const app = new App();
  const chart = new Chart(app, 'test', props);
  build(chart);
  return chart.toJson() as KubeObject[];
}

/** The validation error text of a synth that must fail. */
export function synthError(build: (chart: Chart) => void, props?: ChartProps): string {
  try {
    synth(build, props);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the synth to fail validation, but it succeeded');
}

const CRD_FILES: Record<string, string> = {
  GatewayClass: 'gateway.networking.k8s.io_gatewayclasses.yaml',
  Gateway: 'gateway.networking.k8s.io_gateways.yaml',
  TLSRoute: 'gateway.networking.k8s.io_tlsroutes.yaml',
  ReferenceGrant: 'gateway.networking.k8s.io_referencegrants.yaml',
  HTTPRoute: 'gateway.networking.k8s.io_httproutes.yaml',
  ListenerSet: 'gateway.networking.k8s.io_listenersets.yaml',
};

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;
const validators = new Map<string, ValidateFunction>();

/**
 * A real JSON Schema validator for the `gateway.networking.k8s.io/v1` schema of `kind`.
 * Kubernetes extensions (x-kubernetes-*) are unknown keywords and ignored (strict: false);
 * the OpenAPI formats int32/int64 carry no extra constraint beyond type and range. Like the
 * API server, CRD defaults are applied before validating (useDefaults, on a copy): some
 * rules only hold after defaulting (an address without type is an IPAddress).
 */
export function crdValidator(kind: string): ValidateFunction {
  const cached = validators.get(kind);
  if (cached) return cached;
  const file = CRD_FILES[kind];
  if (!file) throw new Error(`no CRD for kind ${kind}`);
  const crd = parse(readFileSync(fromRoot('crds', file), 'utf8')) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: object } }[] };
  };
  const version = crd.spec.versions.find((v) => v.name === 'v1');
  if (!version) throw new Error(`${file} has no v1 version`);
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('int32', true);
  ajv.addFormat('int64', true);
  const schema = version.schema.openAPIV3Schema as Schema;
  const compiled = ajv.compile(schema);
  const validate = ((data: unknown) => compiled(withDefaults(schema, structuredClone(data)))) as ValidateFunction;
  Object.defineProperty(validate, 'errors', { get: () => compiled.errors });
  validators.set(kind, validate);
  return validate;
}

interface Schema {
  properties?: Record<string, Schema>;
  items?: Schema;
  default?: unknown;
}

/** Structural defaulting as the API server does it: absent properties with a `default` get it. */
function withDefaults(schema: Schema, data: unknown): unknown {
  if (Array.isArray(data)) {
    if (schema.items) data.forEach((item, i) => (data[i] = withDefaults(schema.items!, item)));
    return data;
  }
  if (data === null || typeof data !== 'object' || !schema.properties) return data;
  const obj = data as Record<string, unknown>;
  for (const [key, sub] of Object.entries(schema.properties)) {
    if (obj[key] === undefined && sub.default !== undefined) obj[key] = structuredClone(sub.default);
    if (obj[key] !== undefined) obj[key] = withDefaults(sub, obj[key]);
  }
  return obj;
}

/** Schema errors of one object, as readable lines (empty when valid). */
export function schemaErrors(obj: KubeObject): string[] {
  const validate = crdValidator(obj.kind);
  const valid: boolean = validate(obj);
  if (valid) return [];
  return (validate.errors ?? []).map((e) => `${obj.kind}/${obj.metadata.name}${e.instancePath}: ${e.message}`);
}

export function byKindAndName(objects: readonly KubeObject[]): KubeObject[] {
  const key = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  return [...objects].sort((a, b) => key(a).localeCompare(key(b)));
}
