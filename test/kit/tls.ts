// Test PKI generated with the openssl CLI: a throwaway CA plus a server
// certificate for 127.0.0.1 / localhost, and self-signed signing certs (used
// by the token issuer). Keys are EC P-256, valid for 2 days (makeTls: `days`).
//
// Layout of makeTls(dir): ca.crt, ca-key.pem, server-cert.pem,
// server-key.pem. Only ca.crt ends in .crt, so `dir` itself is a valid
// `skopeo --cert-dir` (containers/image treats *.crt as CAs and needs a
// matching *.cert for every *.key, so we never write *.key files there).
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsFiles {
  dir: string;
  /** CA certificate (PEM); trust this to talk to the server. */
  caFile: string;
  /** Server certificate (PEM), SANs IP:127.0.0.1 and DNS:localhost. */
  certFile: string;
  /** Server private key (PEM, PKCS#8). */
  keyFile: string;
}

const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = trustgate-test
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** Runs openssl with a private config; rejects with stderr on failure. */
export function openssl(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'openssl',
      args,
      { cwd, timeout: 30_000, env: { ...process.env, OPENSSL_CONF: join(cwd, 'openssl.cnf') } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`openssl ${args.join(' ')} failed: ${stderr || err.message}`));
        else resolve(stdout);
      },
    );
  });
}

async function writeCnf(dir: string): Promise<string> {
  const cnf = join(dir, 'openssl.cnf');
  await writeFile(cnf, OPENSSL_CNF);
  return cnf;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const serial = (): string => `0x${randomBytes(8).toString('hex').replace(/^./, '1')}`;

/**
 * A self-signed EC P-256 certificate and key in `dir` (used to sign JWTs).
 * Returns the paths of the PEM cert and PKCS#8 key.
 */
export async function makeSelfSigned(dir: string, name: string, commonName: string): Promise<{ certFile: string; keyFile: string }> {
  const cnf = await writeCnf(dir);
  const certFile = join(dir, `${name}-cert.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  await openssl(
    [
      'req',
      '-x509',
      '-config',
      cnf,
      '-extensions',
      'v3_ca',
      ...EC_KEY,
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
      '-set_serial',
      serial(),
    ],
    dir,
  );
  return { certFile, keyFile };
}

/**
 * CA + server certificate for 127.0.0.1 and localhost. Without `dir`, a new temp dir the caller
 * removes. Both are valid for `days` (default 2) from now.
 */
export async function makeTls(dir?: string, options: { readonly days?: number } = {}): Promise<TlsFiles> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), 'trustgate-tls-')));
  const days = String(options.days ?? 2);
  const cnf = await writeCnf(root);
  const caFile = join(root, 'ca.crt');
  const caKey = join(root, 'ca-key.pem');
  const certFile = join(root, 'server-cert.pem');
  const keyFile = join(root, 'server-key.pem');
  const csr = join(root, 'server.csr.pem');
  await openssl(
    [
      'req',
      '-x509',
      '-config',
      cnf,
      '-extensions',
      'v3_ca',
      ...EC_KEY,
      '-keyout',
      caKey,
      '-out',
      caFile,
      '-days',
      days,
      '-subj',
      '/CN=trustgate-test-ca',
      '-set_serial',
      serial(),
    ],
    root,
  );
  await openssl(['req', '-new', '-config', cnf, ...EC_KEY, '-keyout', keyFile, '-out', csr, '-subj', '/CN=127.0.0.1'], root);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caFile,
      '-CAkey',
      caKey,
      '-set_serial',
      serial(),
      '-days',
      days,
      '-extfile',
      cnf,
      '-extensions',
      'v3_server',
      '-out',
      certFile,
    ],
    root,
  );
  return { dir: root, caFile, certFile, keyFile };
}
