// The per-team listeners example (docs/listenersets.md): a platform chart with the shared
// Gateway and two team charts, each with its ListenerSet, certificate Secret and routes.
//
//   npm run build && CDK8S_OUTDIR=dist/listenersets node dist/examples/listenersets/main.js
//
// A throwaway CA issues the certificates (its certificate is written to ca.crt beside the
// manifests, for curl). With TLSGATE_EXAMPLE_BACKEND=host:port the Services get EndpointSlices
// pointing there, so that `tlsgate standalone -f <outdir>` serves the manifests without a cluster.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { App } from 'cdk8s';
import { issueCertificate } from '../demo/pki.js';
import { platformChart, teamChart, type LoopbackEndpoint } from './charts.js';

const port = Number(process.env.TLSGATE_EXAMPLE_PORT ?? 443);
const backend = process.env.TLSGATE_EXAMPLE_BACKEND;
const endpoint: LoopbackEndpoint | undefined = backend ? { address: backend.split(':')[0]!, port: Number(backend.split(':')[1]) } : undefined;

const ca = issueCertificate({ commonName: 'example CA', organization: 'tlsgate ListenerSet example', dnsNames: [], isCA: true, validDays: 30 });
const issue = (name: string, organization: string) => issueCertificate({ commonName: name, organization, dnsNames: [name], isCA: false, validDays: 30, issuer: ca });

const app = new App();
const { gateway } = platformChart(app, { port, certificate: issue('www.example.com', 'platform'), ...(endpoint ? { siteEndpoint: endpoint } : {}) });
teamChart(app, { team: 'team-a', gateway, port, hostname: 'a.example.com', certificate: issue('a.example.com', 'team a'), ...(endpoint ? { webEndpoint: endpoint } : {}) });
teamChart(app, { team: 'team-b', gateway, port, hostname: 'b.example.com', certificate: issue('b.example.com', 'team b'), ...(endpoint ? { webEndpoint: endpoint } : {}) });
app.synth();
mkdirSync(app.outdir, { recursive: true });
writeFileSync(path.join(app.outdir, 'ca.crt'), ca.certificatePem);
