// X.509 certificates with ECDSA P-256 keys, encoded with node-forge and signed with node:crypto.
//
// Why the split: node-forge encodes names, extensions and the certificate structure well, but
// its key and signature code is RSA-only. node:crypto has P-256 keys and ECDSA signatures but no
// certificate builder. So forge builds the TBSCertificate (with the subject public key taken
// verbatim from node:crypto's SPKI DER), node:crypto signs its DER bytes, and forge assembles the
// final certificate. The result is checked by OpenSSL in the tests (`openssl verify`) and by every
// TLS handshake that uses it.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const asn1 = forge.asn1;
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

/** A PEM certificate with its PEM (PKCS#8) private key. */
export interface KeyAndCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

export interface SubjectAltNames {
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
}

export interface CertificateRequest {
  commonName: string;
  /** Leaf certificates only; a CA gets none. */
  altNames?: SubjectAltNames;
  notBefore: Date;
  notAfter: Date;
  /** 'ca' can sign certificates; 'server' and 'client' are TLS leaf certificates. */
  kind: 'ca' | 'server' | 'client';
}

/** The issuer: its certificate (for the issuer name and key identifier) and its private key. */
export interface Issuer {
  certificatePem: string;
  privateKeyPem: string;
}

/** A fresh ECDSA P-256 key pair. */
export function generateP256Key(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

/**
 * Issue a certificate for `publicKey`, signed by `issuer`, or self-signed with `selfSignKey`
 * when `issuer` is null (a root CA).
 */
export function createCertificate(
  request: CertificateRequest,
  publicKey: KeyObject,
  issuer: Issuer | null,
  selfSignKey?: KeyObject,
): string {
  const signingKey = issuer ? createPrivateKey(issuer.privateKeyPem) : selfSignKey;
  if (!signingKey) throw new Error('createCertificate: a self-signed certificate needs selfSignKey');

  const subjectKeyId = keyIdentifier(publicKey);
  const holder = forge.pki.createCertificate();
  holder.setSubject(nameAttributes(request.commonName));
  // The issuer name is copied byte for byte from the issuer's certificate, so that chain
  // building (which compares names) cannot be upset by a re-encoding.
  const issuerName = issuer ? subjectNameOf(issuer.certificatePem) : forge.pki.distinguishedNameToAsn1(holder.subject);
  const authorityKeyId = issuer ? keyIdentifier(createPublicKey(issuer.certificatePem)) : subjectKeyId;
  holder.setExtensions(extensionsFor(request, subjectKeyId, authorityKeyId));

  const algorithm = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(ECDSA_WITH_SHA256).getBytes()),
  ]);
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  const tbs = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(2).getBytes()),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, randomSerialBinary()),
    algorithm,
    issuerName,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [timeToAsn1(request.notBefore), timeToAsn1(request.notAfter)]),
    forge.pki.distinguishedNameToAsn1(holder.subject),
    asn1.fromDer(spkiDer.toString('binary')),
    extensionsToAsn1(holder.extensions),
  ]);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  // node:crypto emits the DER-encoded ECDSA-Sig-Value that X.509 expects.
  const signature = sign('sha256', tbsDer, signingKey);
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    algorithm,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + signature.toString('binary')),
  ]);
  return derToPem(Buffer.from(asn1.toDer(certificate).getBytes(), 'binary'), 'CERTIFICATE');
}

/** Issue a key pair and certificate in one step. */
export function issueKeyAndCertificate(request: CertificateRequest, issuer: Issuer | null): KeyAndCertificate {
  const { privateKey, publicKey } = generateP256Key();
  const certificatePem = createCertificate(request, publicKey, issuer, privateKey);
  return { certificatePem, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** Split a PEM bundle into its certificate blocks (anything else is ignored). */
export function splitPemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.map((pem) => (pem.endsWith('\n') ? pem : pem + '\n')) ?? [];
}

function nameAttributes(commonName: string): forge.pki.CertificateField[] {
  // UTF8String: PrintableString cannot hold every character a Kubernetes name may have ('_' is
  // not in it, for one). The CN is informational; identities live in the SANs.
  return [
    { shortName: 'O', value: 'tlsgate', valueTagClass: asn1.Type.UTF8 } as unknown as forge.pki.CertificateField,
    { shortName: 'CN', value: commonName.slice(0, 64), valueTagClass: asn1.Type.UTF8 } as unknown as forge.pki.CertificateField,
  ];
}

function extensionsFor(request: CertificateRequest, subjectKeyId: Buffer, authorityKeyId: Buffer): object[] {
  const keyIds = [
    { name: 'subjectKeyIdentifier', value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, subjectKeyId.toString('binary')) },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId.toString('binary') },
  ];
  if (request.kind === 'ca') {
    // pathLen 0: this CA signs leaf certificates only.
    return [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ...keyIds,
    ];
  }
  const altNames = [
    ...(request.altNames?.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(request.altNames?.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
    ...(request.altNames?.uris ?? []).map((value) => ({ type: 6, value })),
  ];
  if (altNames.length === 0) throw new Error(`certificate "${request.commonName}": a ${request.kind} certificate needs at least one subjectAltName`);
  return [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', serverAuth: request.kind === 'server', clientAuth: request.kind === 'client' },
    { name: 'subjectAltName', altNames },
    ...keyIds,
  ];
}

function extensionsToAsn1(extensions: unknown[]): forge.asn1.Asn1 {
  // Exported by node-forge but missing from its type definitions.
  const pki = forge.pki as unknown as { certificateExtensionsToAsn1(exts: unknown[]): forge.asn1.Asn1 };
  return pki.certificateExtensionsToAsn1(extensions);
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = asn1.fromDer(publicKey.export({ type: 'spki', format: 'der' }).toString('binary'));
  const bitString = (spki.value as forge.asn1.Asn1[])[1]!.value as string;
  return createHash('sha1').update(Buffer.from(bitString.slice(1), 'binary')).digest();
}

/** 128 random bits, positive (top bit clear) and without a leading zero byte. */
function randomSerialBinary(): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial.toString('binary');
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function timeToAsn1(date: Date): forge.asn1.Asn1 {
  const whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
  return whole.getUTCFullYear() < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(whole))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(whole));
}

/** The subject Name of a certificate, as parsed ASN.1 (TBSCertificate field 6, after the version). */
function subjectNameOf(certificatePem: string): forge.asn1.Asn1 {
  const certificate = asn1.fromDer(pemToDerBinary(certificatePem));
  const tbsFields = ((certificate.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[]);
  const hasVersion = tbsFields[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC;
  return tbsFields[hasVersion ? 5 : 4]!;
}

function pemToDerBinary(pem: string): string {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!body) throw new Error('expected a PEM certificate');
  return Buffer.from(body[1]!.replace(/\s+/g, ''), 'base64').toString('binary');
}

function derToPem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
