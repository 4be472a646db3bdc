/**
 * A tiny ECDSA P-256 certificate authority for the demo and the end-to-end tests.
 *
 * Why two libraries: node-forge's X.509 writer only knows RSA keys, and ECDSA P-256 is
 * what the proxy prefers (field notes 4.5). So node:crypto makes the P-256 keys and the
 * ECDSA-with-SHA256 signatures, and node-forge does what it is good at: the ASN.1/DER
 * encoding of names, extensions and the certificate itself. No `openssl` binary needed.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { asn1, pki } = forge;
/** Exported by node-forge's x509.js but missing from @types/node-forge. */
const certificateExtensionsToAsn1 = (pki as unknown as {
  certificateExtensionsToAsn1(extensions: unknown[]): forge.asn1.Asn1;
}).certificateExtensionsToAsn1;

/** ecdsa-with-SHA256 (RFC 5758); its AlgorithmIdentifier has no parameters. */
const ECDSA_WITH_SHA256_OID = '1.2.840.10045.4.3.2';
const SUBJECT_KEY_IDENTIFIER_OID = '2.5.29.14';
const AUTHORITY_KEY_IDENTIFIER_OID = '2.5.29.35';

export interface IssuedCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

export interface CertificateRequest {
  commonName: string;
  organization: string;
  /** DNS subjectAltNames; empty for a CA. */
  dnsNames: string[];
  isCA: boolean;
  validDays: number;
  /** The signer; omitted = self-signed (the CA). */
  issuer?: IssuedCertificate;
  /** Defaults to the time of the call; a parameter so tests can make expired certificates. */
  notBefore?: Date;
}

export function issueCertificate(request: CertificateRequest): IssuedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKeyDer = publicKey.export({ type: 'spki', format: 'der' });
  const subjectKeyId = keyIdentifier(publicKeyDer);

  const subject = [
    { shortName: 'CN', value: request.commonName },
    { shortName: 'O', value: request.organization },
  ];
  // node-forge fills in the ASN.1 of the subject name and the standard extensions for us.
  const scratch = pki.createCertificate();
  scratch.setSubject(subject);
  let issuerName = pki.distinguishedNameToAsn1(scratch.subject);
  let issuerKey: KeyObject = privateKey;
  let authorityKeyId = subjectKeyId;
  if (request.issuer) {
    const issuerCert = new X509Certificate(request.issuer.certificatePem);
    // The issuer name is copied byte for byte from the issuer's subject, so chains build.
    issuerName = subjectNameOf(issuerCert.raw);
    issuerKey = createPrivateKey(request.issuer.privateKeyPem);
    authorityKeyId = keyIdentifier(issuerCert.publicKey.export({ type: 'spki', format: 'der' }));
  }
  const extensions: object[] = [
    { name: 'basicConstraints', cA: request.isCA, critical: true },
    request.isCA
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, critical: true },
    { id: SUBJECT_KEY_IDENTIFIER_OID, value: octetString(subjectKeyId) },
    { id: AUTHORITY_KEY_IDENTIFIER_OID, value: authorityKeyIdentifier(authorityKeyId) },
  ];
  if (!request.isCA) {
    extensions.push({ name: 'extKeyUsage', serverAuth: true, clientAuth: true });
    extensions.push({ name: 'subjectAltName', altNames: request.dnsNames.map((value) => ({ type: 2, value })) });
  }
  scratch.setExtensions(extensions);

  const notBefore = request.notBefore ?? new Date(Date.now() - 60 * 60 * 1000); // an hour of clock skew
  const notAfter = new Date(notBefore.getTime() + request.validDays * 24 * 60 * 60 * 1000);
  const signatureAlgorithm = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(ECDSA_WITH_SHA256_OID).getBytes()),
  ]);
  const tbsCertificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(2).getBytes()), // v3
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, serialNumber()),
    signatureAlgorithm,
    issuerName,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [utcTime(notBefore), utcTime(notAfter)]),
    pki.distinguishedNameToAsn1(scratch.subject),
    asn1.fromDer(forge.util.createBuffer(publicKeyDer.toString('binary'))),
    certificateExtensionsToAsn1(scratch.extensions),
  ]);
  const tbsDer = Buffer.from(asn1.toDer(tbsCertificate).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, issuerKey); // DER-encoded ECDSA-Sig-Value

  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbsCertificate,
    signatureAlgorithm,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + signature.toString('binary')),
  ]);
  const der = Buffer.from(asn1.toDer(certificate).getBytes(), 'binary');
  return {
    certificatePem: toPem('CERTIFICATE', der),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents. */
function keyIdentifier(spkiDer: Buffer): string {
  const spki = asn1.fromDer(forge.util.createBuffer(spkiDer.toString('binary')));
  const bitString = (spki.value as forge.asn1.Asn1[])[1]!.value as string;
  return createHash('sha1').update(Buffer.from(bitString.slice(1), 'binary')).digest('binary');
}

/** The subject Name of a DER certificate (TBSCertificate field 6, after the [0] version). */
function subjectNameOf(certificateDer: Buffer): forge.asn1.Asn1 {
  const certificate = asn1.fromDer(forge.util.createBuffer(certificateDer.toString('binary')));
  const tbs = (certificate.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
  return tbs[5]!;
}

function octetString(bytes: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes);
}

function authorityKeyIdentifier(bytes: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, bytes),
  ]);
}

/** A positive 16-byte serial (the top bit cleared so DER does not read it as negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('binary');
}

function utcTime(date: Date): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date));
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
