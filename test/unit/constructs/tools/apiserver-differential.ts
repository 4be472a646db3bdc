// Differential check of the synth-time validators against a real kube-apiserver with the
// v1.6.1 CRDs installed: random specs (valid and invalid mixed) are sent with dryRun=All,
// and the apiserver's verdict (CRD schema + CEL) must equal the validator's. Not a unit test
// (it needs an apiserver); run by hand against the cluster in a box (its admin kubeconfig,
// loaded by test/cluster/client.ts):
//
//   flock /tmp/tlsgate-cluster.lock node dist/test/unit/constructs/tools/apiserver-differential.js [runs]
//
// or against another apiserver with the v1.6.1 CRDs:
//
//   APISERVER=https://127.0.0.1:26443 APISERVER_CA=ca.crt APISERVER_TOKEN=... \
//     node dist/test/unit/constructs/tools/apiserver-differential.js [runs]
//
// Semantic checks (listener existence, hostname intersection, ...) are not part of
// validate*Spec, so only the CRD rules are compared. The HTTPRoute CEL messages are listed
// by distinctive fragments (several rules share a wording).
import { readFileSync } from 'node:fs';
import https from 'node:https';
import fc from 'fast-check';
import { loadTestKubeConfig } from '../../../cluster/client.js';
import { validateGatewaySpec, validateHttpRouteSpec, validateTlsRouteSpec } from '../../../../src/constructs/index.js';
import { gatewaySpecs, httpRouteSpecs, tlsRouteSpecs } from '../spec-arbitraries.js';

const runs = Number(process.argv[2] ?? 300);

/** Where to send the requests and how to authenticate: the environment, else the test cluster. */
async function connection(): Promise<{ server: URL; options: https.RequestOptions }> {
  if (process.env.APISERVER !== undefined) {
    const options: https.RequestOptions = { ca: readFileSync(process.env.APISERVER_CA ?? 'ca.crt'), headers: { authorization: `Bearer ${process.env.APISERVER_TOKEN ?? ''}` } };
    return { server: new URL(process.env.APISERVER), options };
  }
  const kc = loadTestKubeConfig();
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  return { server: new URL(kc.getCurrentCluster()!.server), options };
}
const { server, options } = await connection();

function dryRunCreate(resource: string, kind: string, spec: unknown): Promise<{ ok: boolean; message: string }> {
  const body = JSON.stringify({ apiVersion: 'gateway.networking.k8s.io/v1', kind, metadata: { name: 'x', namespace: 'default' }, spec });
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        ...options,
        host: server.hostname,
        port: server.port,
        method: 'POST',
        path: `/apis/gateway.networking.k8s.io/v1/namespaces/default/${resource}?dryRun=All`,
        headers: { ...(options.headers as Record<string, string> | undefined), 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ ok: res.statusCode === 201, message: res.statusCode === 201 ? '' : (JSON.parse(text) as { message: string }).message }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** How often each CEL message occurred in apiserver rejections: shows the run exercised CEL. */
const celSeen = new Map<string, number>();
const CEL_MESSAGES = [
  'sectionName must be specified when parentRefs includes 2 or more references to the same parent',
  'sectionName must be unique when parentRefs includes 2 or more references to the same parent',
  'Hostnames cannot contain an IP',
  'Hostnames must be valid based on RFC-1123',
  'Wildcards on hostnames must be the first label',
  'Must have port for Service reference',
  'certificateRefs or options must be specified when mode is Terminate',
  "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
  'tls mode must be Terminate for protocol HTTPS',
  'tls mode must be set for protocol TLS',
  "hostname must not be specified for protocols ['TCP', 'UDP']",
  'Listener name must be unique within the Gateway',
  'Combination of port, protocol and hostname must be unique for each listener',
  // HTTPRoute (the parentRefs and backendRef messages above are shared with TLSRoute)
  'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128',
  'RequestRedirect filter must not be used together with backendRefs',
  'When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified',
  'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified',
  'Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified',
  'Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified',
  'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both',
  'filter cannot be repeated',
  'must be nil if the filter.type is not',
  'must be specified for',
  'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter',
  'numerator must be less than or equal to denominator',
  "must be specified when type is set to 'Replace",
  "when replaceFullPath is set",
  "when replacePrefixMatch is set",
  "cannot contain '*' alongside other",
  "when type one of ['Exact', 'PathPrefix']",
  "type must be one of ['Exact', 'PathPrefix', 'RegularExpression']",
  'backendRequest timeout cannot be longer than request timeout',
];

async function compare(label: string, resource: string, kind: string, samples: unknown[], validate: (spec: never) => { field: string; message: string }[]): Promise<number> {
  let mismatches = 0;
  let rejected = 0;
  for (const spec of samples) {
    const server = await dryRunCreate(resource, kind, spec);
    const issues = validate(spec as never);
    if (!server.ok) rejected++;
    for (const m of CEL_MESSAGES) if (server.message.includes(m)) celSeen.set(m, (celSeen.get(m) ?? 0) + 1);
    if (server.ok !== (issues.length === 0)) {
      mismatches++;
      console.log(`MISMATCH ${label}: apiserver ${server.ok ? 'accepts' : 'rejects'}, validator ${issues.length === 0 ? 'accepts' : 'rejects'}`);
      console.log(`  spec: ${JSON.stringify(spec)}`);
      console.log(`  apiserver: ${server.message}`);
      console.log(`  validator: ${issues.map((i) => `${i.field}: ${i.message}`).join(' | ')}`);
    }
  }
  console.log(`${label}: ${samples.length} specs, apiserver rejected ${rejected}, mismatches ${mismatches}`);
  return mismatches;
}

const routeSamples = fc.sample(tlsRouteSpecs, { numRuns: runs, seed: 7 });
const gatewaySamples = fc.sample(gatewaySpecs, { numRuns: runs, seed: 7 });
const httpRouteSamples = fc.sample(httpRouteSpecs, { numRuns: runs, seed: 7 });
const mismatches =
  (await compare('TLSRoute', 'tlsroutes', 'TLSRoute', routeSamples, validateTlsRouteSpec)) +
  (await compare('Gateway', 'gateways', 'Gateway', gatewaySamples, validateGatewaySpec)) +
  (await compare('HTTPRoute', 'httproutes', 'HTTPRoute', httpRouteSamples, validateHttpRouteSpec));
for (const m of CEL_MESSAGES) console.log(`  CEL ${JSON.stringify(m)}: ${celSeen.get(m) ?? 0} rejections`);
process.exitCode = mismatches === 0 ? 0 : 1;
