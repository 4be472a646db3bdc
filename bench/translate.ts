/**
 * `npm run bench:translate`: translate on a synthetic cluster of 100 Gateways, 10,000
 * TLSRoutes, 2,000 Services with EndpointSlices and 200 certificate Secrets, printing the
 * time and heap of a full (cold) translate and of a re-translate after one route changes.
 * Target on the 2-core project machines: full translate < 1 s and < 300 MB heap.
 *
 * A benchmark, not a test: it asserts nothing about timings. Each of the 200 Secrets holds
 * its own key pair (generated with openssl at start: 3 in 4 ECDSA P-256, 1 in 4 RSA-2048),
 * so a cold translate really parses 200 certificates and keys.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { translate, type Snapshot, type TranslateOutput } from '../src/gatewayapi/translate.js';
import type { EndpointSlice, Gateway, Namespace, ReferenceGrant, Secret, Service, TLSRoute } from '../src/gatewayapi/types.js';
import { clearCertificateCache } from '../src/gatewayapi/certificates.js';

const GATEWAYS = 100;
const ROUTES = 10_000;
const SERVICES = 2_000;
const SECRETS = 200;
const NAMESPACES = 20;

/** Key pairs are slow to generate; they are kept in the temp dir between runs. */
export function certificates(count: number): { cert: string; key: string }[] {
  const cacheFile = path.join(tmpdir(), `tlsgate-bench-certificates-${count}.json`);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, 'utf8')) as { cert: string; key: string }[];
  const pairs = generateCertificates(count);
  writeFileSync(cacheFile, JSON.stringify(pairs));
  return pairs;
}

function generateCertificates(count: number): { cert: string; key: string }[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsgate-bench-'));
  try {
    const pairs: { cert: string; key: string }[] = [];
    for (let i = 0; i < count; i++) {
      const keyFile = path.join(dir, `${i}.key`);
      const certFile = path.join(dir, `${i}.crt`);
      const keyArgs = i % 4 !== 3 ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
      execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-days', '365', '-subj', `/CN=bench${i}.example.com`,
        '-addext', `subjectAltName=DNS:*.bench${i}.example.com`, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
      pairs.push({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') });
    }
    return pairs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function buildSnapshot(pairs: { cert: string; key: string }[]): Snapshot {
  const ns = (i: number) => `team-${i % NAMESPACES}`;
  const secrets: Secret[] = [];
  for (let i = 0; i < SECRETS; i++) {
    const pair = pairs[i % pairs.length]!;
    secrets.push({
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
      metadata: { name: `cert-${i}`, namespace: ns(Math.floor(i / 2)) },
      data: { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') },
    });
  }
  const gateways: Gateway[] = [];
  for (let g = 0; g < GATEWAYS; g++) {
    gateways.push({
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway',
      metadata: { name: `gw-${g}`, namespace: ns(g), generation: 3 },
      spec: {
        gatewayClassName: 'tlsgate',
        listeners: [
          { name: 'passthrough', port: 443, protocol: 'TLS', hostname: `*.gw${g}.example.com`, tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'All' } } },
          { name: 'passthrough-any', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { tier: 'edge' } } } } },
          // Two Secrets per Gateway, each used by one Terminate listener (cert-2g, cert-2g+1).
          { name: 'terminate-a', port: 8443, protocol: 'TLS', hostname: `a.gw${g}.example.com`, tls: { mode: 'Terminate', certificateRefs: [{ name: `cert-${2 * g}` }] }, allowedRoutes: { namespaces: { from: 'All' } } },
          { name: 'terminate-b', port: 8443, protocol: 'TLS', hostname: `*.b.gw${g}.example.com`, tls: { mode: 'Terminate', certificateRefs: [{ name: `cert-${2 * g + 1}` }] }, allowedRoutes: { namespaces: { from: 'All' } } },
        ],
      },
    });
  }
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  for (let s = 0; s < SERVICES; s++) {
    const namespace = ns(s);
    services.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${s}`, namespace }, spec: { ports: [{ name: 'tls', port: 443, targetPort: 8443 }, { name: 'plain', port: 80, targetPort: 8080 }] } });
    endpointSlices.push({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: `svc-${s}-x1`, namespace, labels: { 'kubernetes.io/service-name': `svc-${s}` } },
      ports: [{ name: 'tls', port: 8443 }, { name: 'plain', port: 8080 }],
      endpoints: [0, 1, 2].map((e) => ({ addresses: [`10.${s >> 8}.${s & 255}.${e + 1}`], conditions: { ready: e !== 2 } })),
    });
  }
  const tlsRoutes: TLSRoute[] = [];
  for (let r = 0; r < ROUTES; r++) {
    const g = r % GATEWAYS;
    const namespace = ns(r * 7);
    const backend = (r * 13) % SERVICES;
    const kind = r % 4;
    const hostnames =
      kind === 0 ? [`r${r}.gw${g}.example.com`] : kind === 1 ? [`r${r}.a.gw${g}.example.com`, `a.gw${g}.example.com`] : kind === 2 ? [`x${r}.b.gw${g}.example.com`] : [`*.r${r}.gw${g}.example.com`, `r${r}.example.org`];
    tlsRoutes.push({
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'TLSRoute',
      metadata: { name: `route-${r}`, namespace, generation: 1, creationTimestamp: new Date(Date.UTC(2026, 0, 1) + r * 1000).toISOString() },
      spec: {
        parentRefs: [{ name: `gw-${g}`, namespace: ns(g), ...(kind === 1 ? { sectionName: 'terminate-a' } : {}) }],
        hostnames,
        rules: [{ backendRefs: [
          { name: `svc-${backend}`, namespace: ns(backend), port: kind === 1 ? 80 : 443, weight: 90 },
          { name: `svc-${(backend + 1) % SERVICES}`, namespace: ns(backend + 1), port: 443, weight: 10 },
        ] }],
      },
    });
  }
  // Grants so that cross-namespace backends resolve: every team trusts routes from every team.
  const referenceGrants: ReferenceGrant[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    referenceGrants.push({
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ReferenceGrant',
      metadata: { name: 'routes-from-teams', namespace: ns(n) },
      spec: { from: Array.from({ length: NAMESPACES }, (_, m) => ({ group: 'gateway.networking.k8s.io', kind: 'TLSRoute', namespace: ns(m) })), to: [{ group: '', kind: 'Service' }] },
    });
  }
  return {
    gatewayClasses: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'tlsgate' }, spec: { controllerName: 'tlsgate.dev/gateway-controller' } }],
    gateways, tlsRoutes, httpRoutes: [], referenceGrants, services, endpointSlices, secrets,
    namespaces: Array.from({ length: NAMESPACES }, (_, n): Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns(n), labels: n % 2 ? { tier: 'edge' } : {} } })),
  };
}

const MB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;

interface Sample { ms: number; cpuMs: number; heapUsedMB: number; heapTotalMB: number }

/** One timed translate. Heap: used right after (no forced GC in between) and V8's committed heap. */
function measure(run: () => TranslateOutput): { sample: Sample; out: TranslateOutput } {
  gc?.();
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const out = run();
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const heap = v8.getHeapStatistics();
  return { out, sample: { ms, cpuMs: (cpu.user + cpu.system) / 1000, heapUsedMB: heap.used_heap_size / MB, heapTotalMB: heap.total_heap_size / MB } };
}

function median(samples: Sample[]): Sample {
  const sorted = [...samples].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  if (!gc) process.stderr.write('note: run with --expose-gc (npm run bench:translate does) for steadier heap numbers\n');
  const pairs = certificates(SECRETS);
  const now = new Date(Date.UTC(2026, 11, 1));
  const base = buildSnapshot(pairs);
  const full: Sample[] = [];
  let out: TranslateOutput | undefined;
  for (let i = 0; i < 3; i++) {
    // New Secret objects and an empty content cache: every certificate is parsed cold.
    const snapshot = structuredClone(base);
    clearCertificateCache();
    const m = measure(() => translate({ snapshot, now }));
    full.push(m.sample);
    out = m.out;
  }
  const snapshot = structuredClone(base);
  translate({ snapshot, now });
  const retranslate: Sample[] = [];
  for (let i = 0; i < 5; i++) {
    const changedIndex = 4242 + i;
    const changed = structuredClone(snapshot.tlsRoutes[changedIndex]!);
    changed.spec.hostnames = [`changed${i}.gw42.example.com`];
    const next: Snapshot = { ...snapshot, tlsRoutes: snapshot.tlsRoutes.map((r, j) => (j === changedIndex ? changed : r)) };
    retranslate.push(measure(() => translate({ snapshot: next, now })).sample);
  }
  const rss = process.resourceUsage().maxRSS / 1024;
  const attached = out!.gateways.reduce((n, g) => n + (g.status.listeners ?? []).reduce((m, l) => m + l.attachedRoutes, 0), 0);
  const accepted = out!.tlsRoutes.filter((r) => r.status.parents.every((p) => p.conditions.find((c) => c.type === 'Accepted')?.status === 'True')).length;

  const row = (name: string, s: Sample) =>
    `| ${name.padEnd(38)} | ${s.ms.toFixed(0).padStart(9)} | ${s.cpuMs.toFixed(0).padStart(8)} | ${s.heapUsedMB.toFixed(0).padStart(14)} | ${s.heapTotalMB.toFixed(0).padStart(15)} |`;
  console.log(`translate benchmark: ${GATEWAYS} Gateways (${GATEWAYS * 4} listeners), ${ROUTES} TLSRoutes, ${SERVICES} Services + EndpointSlices, ${SECRETS} Secrets; node ${process.version}`);
  console.log(`result: ${out!.proxyConfigs.length} proxy configs, ${accepted}/${out!.tlsRoutes.length} routes Accepted, ${attached} listener attachments`);
  console.log('');
  console.log(`| ${'phase (median)'.padEnd(38)} | time (ms) | CPU (ms) | heap used (MB) | heap total (MB) |`);
  console.log(`|${'-'.repeat(40)}|-----------|----------|----------------|-----------------|`);
  console.log(row('full translate, cold (3 runs)', median(full)));
  console.log(row('re-translate after 1 route change (5)', median(retranslate)));
  console.log('');
  console.log(`time = wall clock; CPU = user+system time of this process (steadier on a busy shared machine; includes GC threads);`);
  console.log(`heap used = V8 heap in use right after translate (snapshot included, no GC forced in between);`);
  console.log(`heap total = V8 committed heap; peak RSS of the whole process: ${rss.toFixed(0)} MB. Target: < 1000 ms, < 300 MB.`);
}

// Run only when executed, so that profiling scripts can import the snapshot builder.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
