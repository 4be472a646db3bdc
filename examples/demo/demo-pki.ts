/**
 * The demo's certificates on disk (`.demo/pki/`, git-ignored): a CA, foo-svc's own
 * certificate (the backend behind the Passthrough listener) and the gateway's certificate
 * for bar.example.com (the Secret tls-terminate-certificate of the Terminate listener), and the
 * app's certificate for app.example.com (the Secret app-certificate of the HTTPS listener).
 * Reused across runs when still valid, so pasted `openssl s_client -CAfile` commands keep
 * working; remade when anything is missing, unparsable, expiring or not signed by the CA.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { issueCertificate, type IssuedCertificate } from './pki.js';

export interface DemoPki {
  directory: string;
  caFile: string;
  ca: IssuedCertificate;
  /** foo-svc's own certificate: what a client sees through the Passthrough listener. */
  fooBackend: IssuedCertificate;
  /** The gateway's certificate: what a client sees through the Terminate listener. */
  gateway: IssuedCertificate;
  /** The HTTPS listener's certificate for app.example.com (the gateway's too, not the app's). */
  app: IssuedCertificate;
}

const FILES = { ca: 'ca', fooBackend: 'foo-svc', gateway: 'gateway-bar.example.com', app: 'gateway-app.example.com' } as const;
/** Remake certificates that expire within this window. */
const RENEW_BEFORE_MS = 7 * 24 * 60 * 60 * 1000;

export function ensureDemoPki(directory: string): DemoPki & { created: boolean } {
  const existing = readPki(directory);
  if (existing) return { ...existing, created: false };

  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const ca = issueCertificate({ commonName: 'tlsgate demo CA', organization: 'tlsgate demo', dnsNames: [], isCA: true, validDays: 825 });
  const fooBackend = issueCertificate({
    commonName: 'foo.example.com',
    organization: 'foo-svc (the backend itself)',
    dnsNames: ['foo.example.com'],
    isCA: false,
    validDays: 365,
    issuer: ca,
  });
  const gateway = issueCertificate({
    commonName: 'bar.example.com',
    organization: 'tlsgate gateway (Secret tls-terminate-certificate)',
    dnsNames: ['bar.example.com'],
    isCA: false,
    validDays: 365,
    issuer: ca,
  });
  const app = issueCertificate({
    commonName: 'app.example.com',
    organization: 'tlsgate gateway (Secret app-certificate)',
    dnsNames: ['app.example.com'],
    isCA: false,
    validDays: 365,
    issuer: ca,
  });
  const pki = { ca, fooBackend, gateway, app };
  for (const [field, base] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
    writeFileSync(path.join(directory, `${base}.crt`), pki[field].certificatePem);
    writeFileSync(path.join(directory, `${base}.key`), pki[field].privateKeyPem, { mode: 0o600 });
  }
  return { directory, caFile: path.join(directory, `${FILES.ca}.crt`), ...pki, created: true };
}

function readPki(directory: string): DemoPki | undefined {
  try {
    const read = (base: string): IssuedCertificate => ({
      certificatePem: readFileSync(path.join(directory, `${base}.crt`), 'utf8'),
      privateKeyPem: readFileSync(path.join(directory, `${base}.key`), 'utf8'),
    });
    const ca = read(FILES.ca);
    const fooBackend = read(FILES.fooBackend);
    const gateway = read(FILES.gateway);
    const app = read(FILES.app);
    const caCert = new X509Certificate(ca.certificatePem);
    for (const pair of [ca, fooBackend, gateway, app]) {
      const cert = new X509Certificate(pair.certificatePem);
      if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return undefined;
      if (!cert.checkPrivateKey(createPrivateKey(pair.privateKeyPem))) return undefined;
      if (!cert.verify(caCert.publicKey)) return undefined;
    }
    return { directory, caFile: path.join(directory, `${FILES.ca}.crt`), ca, fooBackend, gateway, app };
  } catch {
    return undefined; // missing or unreadable: make a fresh set
  }
}
