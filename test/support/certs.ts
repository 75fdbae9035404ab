/**
 * Test certificates made with node-forge: a CA that the hub trusts for client certificates, the
 * hub's server certificate, client certificates (valid, expired, from an unknown CA).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface Issued {
  readonly cert: string;
  readonly key: string;
  /** SHA-256 fingerprint, AB:CD:... as Node reports it */
  readonly fingerprint256: string;
}

interface Authority extends Issued {
  readonly forgeCert: forge.pki.Certificate;
  readonly forgeKey: forge.pki.rsa.PrivateKey;
}

const DAY = 24 * 3600 * 1000;

function makeCert(commonName: string, options: { issuer?: Authority; ca?: boolean; notBefore?: Date; notAfter?: Date; serverName?: string }): Authority {
  // the key is Node's own (native, and encoded as OpenSSL reads it: a key node-forge encodes is now
  // and then refused with "illegal padding"); node-forge only signs the certificate
  const { privateKey: keyPem } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const privateKey = forge.pki.privateKeyFromPem(keyPem);
  const keys = { privateKey, publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e) };
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // a DER INTEGER in its shortest form, positive: a leading 01 byte (a leading 00 before a byte
  // below 0x80, as an odd hex string once gave, is refused by newer OpenSSL as "illegal padding")
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - DAY);
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 365 * DAY);
  const subject = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'aid-gateway tests' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer ? options.issuer.forgeCert.subject.attributes : subject);
  const extensions: object[] = [{ name: 'basicConstraints', cA: Boolean(options.ca) }];
  if (options.ca) extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true });
  if (options.serverName) extensions.push({ name: 'subjectAltName', altNames: [{ type: 7, ip: options.serverName }] });
  cert.setExtensions(extensions);
  cert.sign(options.issuer?.forgeKey ?? keys.privateKey, forge.md.sha256.create());
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  const hex = forge.md.sha256.create().update(der).digest().toHex().toUpperCase();
  return {
    cert: forge.pki.certificateToPem(cert),
    key: keyPem,
    fingerprint256: hex.match(/.{2}/g)?.join(':') ?? hex,
    forgeCert: cert,
    forgeKey: keys.privateKey,
  };
}

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly ca: Issued;
  readonly client: (commonName: string) => Issued;
  /** a server certificate for 127.0.0.1 */
  readonly server: () => Issued;
  readonly expiredClient: (commonName: string) => Issued;
  readonly foreignClient: (commonName: string) => Issued;
}

export function createPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'aidgw-pki-'));
  const ca = makeCert('aid-gateway test CA', { ca: true });
  const foreignCa = makeCert('some other CA', { ca: true });
  const server = makeCert('127.0.0.1', { issuer: ca, serverName: '127.0.0.1' });
  const write = (name: string, content: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  };
  return {
    dir,
    caFile: write('ca.pem', ca.cert),
    serverCertFile: write('server.pem', server.cert),
    serverKeyFile: write('server-key.pem', server.key),
    ca,
    client: (cn) => makeCert(cn, { issuer: ca }),
    server: () => makeCert('127.0.0.1', { issuer: ca, serverName: '127.0.0.1' }),
    expiredClient: (cn) => makeCert(cn, { issuer: ca, notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }),
    foreignClient: (cn) => makeCert(cn, { issuer: foreignCa }),
  };
}
