/**
 * The benchmark's certificates: one ECDSA P-256 CA, the gateway's certificate (served by every
 * proxy's Terminate listener) and the passthrough backend's certificate. Every proxy gets the
 * same files, so handshake costs compare like for like.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { issueCertificate, type IssuedCertificate } from '../../examples/demo/pki.js';
import { BACKEND_CERT_NAME, GATEWAY_CERT_NAME } from './workloads.js';

export interface BenchCertificates {
  ca: IssuedCertificate;
  gateway: IssuedCertificate;
  backend: IssuedCertificate;
  /** Files for nginx and HAProxy. */
  files: { gatewayCert: string; gatewayKey: string; gatewayCombined: string; caCert: string };
}

export function issueBenchCertificates(directory: string): BenchCertificates {
  const ca = issueCertificate({ commonName: 'tlsgate bench CA', organization: 'tlsgate bench', dnsNames: [], isCA: true, validDays: 2 });
  const leaf = (name: string): IssuedCertificate =>
    issueCertificate({ commonName: name, organization: 'tlsgate bench', dnsNames: [name], isCA: false, validDays: 2, issuer: ca });
  const gateway = leaf(GATEWAY_CERT_NAME);
  const backend = leaf(BACKEND_CERT_NAME);
  const files = {
    gatewayCert: path.join(directory, 'gateway.crt'),
    gatewayKey: path.join(directory, 'gateway.key'),
    // HAProxy wants the chain and the key in one file.
    gatewayCombined: path.join(directory, 'gateway.pem'),
    caCert: path.join(directory, 'ca.crt'),
  };
  writeFileSync(files.gatewayCert, gateway.certificatePem);
  writeFileSync(files.gatewayKey, gateway.privateKeyPem, { mode: 0o600 });
  writeFileSync(files.gatewayCombined, gateway.certificatePem + gateway.privateKeyPem, { mode: 0o600 });
  writeFileSync(files.caCert, ca.certificatePem);
  return { ca, gateway, backend, files };
}
