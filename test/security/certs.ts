/**
 * Throwaway certificates for the TLS tests, made with the openssl command line at test time: a CA and
 * server certificates it signs (EC P-256, valid two days), in a directory the caller removes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface CertFiles {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (mode 600). */
  key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed CA named `name` (files `<name>.pem`, `<name>.key`). */
export function makeCa(dir: string, name: string): CertFiles {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  openssl(
    ['req', '-x509', ...EC_KEY, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=tessdb test ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  fs.chmodSync(key, 0o600);
  return { cert, key };
}

/**
 * A certificate signed by `ca`: a server's for these subject alternative names (e.g. ['DNS:localhost',
 * 'IP:127.0.0.1']), or with `usage` 'clientAuth' a client's.
 */
export function makeServerCert(dir: string, ca: CertFiles, name: string, sans: string[], usage: 'serverAuth' | 'clientAuth' = 'serverAuth'): CertFiles {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(
    ext,
    [...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []), 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', `extendedKeyUsage=${usage}`].join('\n') + '\n',
  );
  openssl(['req', '-new', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], dir);
  fs.chmodSync(key, 0o600);
  return { cert, key };
}
