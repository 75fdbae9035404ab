/**
 * The TLS files a partner's upstream names, checked when the config is loaded (check-config, start,
 * reload) rather than at the first call to the partner: Node's TLS reads PEM only, a bundle of CA
 * certificates is read block by block, and the key must be the certificate's.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** every certificate in a PEM file; undefined when it holds none, or one that does not parse */
function certificatesOf(pem: Buffer): X509Certificate[] | undefined {
  const blocks = pem.toString('latin1').match(CERTIFICATE_BLOCK);
  if (blocks === null) return undefined;
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    return undefined;
  }
}

function keyOf(pem: Buffer): KeyObject | undefined {
  if (!pem.toString('latin1').includes('-----BEGIN')) return undefined;
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return undefined;
  }
}

export interface TlsFiles {
  readonly cert?: { readonly file: string; readonly pem: Buffer };
  readonly key?: { readonly file: string; readonly pem: Buffer };
  readonly ca?: { readonly file: string; readonly pem: Buffer };
}

/** what is wrong with the files, each problem naming the field and the file */
export function tlsFileProblems(files: TlsFiles, where: string): string[] {
  const problems: string[] = [];
  const field = (name: keyof TlsFiles, file: string, what: string) => problems.push(`${where}: upstream.tls.${name}: ${file} ${what}`);
  const certs = files.cert && certificatesOf(files.cert.pem);
  if (files.cert && !certs) field('cert', files.cert.file, 'is not a PEM certificate');
  const key = files.key && keyOf(files.key.pem);
  if (files.key && !key) field('key', files.key.file, 'is not a PEM private key (without a passphrase)');
  if (files.cert && files.key && certs && key && !certs[0].checkPrivateKey(key)) {
    field('key', files.key.file, `is not the key of the certificate in ${files.cert.file}`);
  }
  if (files.ca && !certificatesOf(files.ca.pem)) field('ca', files.ca.file, 'is not a PEM certificate (or bundle of them)');
  return problems;
}
