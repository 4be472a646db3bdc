// Keys and certificates for the control plane, made with Debian's openssl: a CA, the
// apiserver's serving certificate (valid for every name pods and the host use), the
// service-account signing key pair and the admin bearer token.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Pki {
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  tokensCsv: string;
  adminToken: string;
}

/** The apiserver must be valid for the host (127.0.0.1), pods (the bridge gateway and the
 *  `kubernetes` Service's cluster IP) and in-cluster DNS names. */
export const apiserverAltNames = [
  'IP:127.0.0.1',
  'IP:10.244.0.1',
  'IP:10.96.0.1',
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
];

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed in ${cwd}: ${stderr.trim() || String(error)}`);
  }
}

export function createPki(dir: string): Pki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (name: string): string => path.join(dir, name);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '7',
    '-subj', '/CN=tlsgate-test-ca', '-keyout', 'ca.key', '-out', 'ca.crt'], dir);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/CN=kube-apiserver', '-keyout', 'apiserver.key', '-out', 'apiserver.csr'], dir);
  writeFileSync(p('apiserver.ext'), `subjectAltName=${apiserverAltNames.join(',')}\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '7', '-extfile', 'apiserver.ext', '-out', 'apiserver.crt'], dir);
  // RSA for service-account tokens: every client library verifies RS256.
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  const adminToken = randomBytes(24).toString('hex');
  writeFileSync(p('tokens.csv'), `${adminToken},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
  return existingPki(dir);
}

/** The PKI a previous createPki left in `dir`, unchanged (restarting a component must not
 *  invalidate the kubeconfig, issued tokens or serving certificates). */
export function existingPki(dir: string): Pki {
  const p = (name: string): string => path.join(dir, name);
  return {
    caCert: p('ca.crt'), caKey: p('ca.key'),
    apiserverCert: p('apiserver.crt'), apiserverKey: p('apiserver.key'),
    serviceAccountKey: p('sa.key'), serviceAccountPub: p('sa.pub'),
    tokensCsv: p('tokens.csv'), adminToken: readAdminToken(dir),
  };
}

/** Reads the admin token back from tokens.csv (the first field of its only line). */
export function readAdminToken(dir: string): string {
  return readFileSync(path.join(dir, 'tokens.csv'), 'utf8').split(',')[0]!;
}
