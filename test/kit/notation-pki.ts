// Test PKI for Notary Project signatures, made with the openssl CLI: a root CA, an optional
// intermediate and a code-signing leaf, with the extensions notation requires by default
// (notaryproject signature-specification.md "Certificate Requirements"). Every role can take other
// keys, subjects, lifetimes, extensions or signing digests to build the certificates the rules forbid.
// Independent of src/verify on purpose.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openssl } from './tls.ts';

export type NotationKeyType = 'rsa-1024' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ec-p224' | 'ec-p256' | 'ec-p384' | 'ec-p521';

export interface NotationCertSpec {
  key?: NotationKeyType;
  /** openssl `-subj` form, e.g. `/C=US/ST=WA/O=acme/CN=signer`; `+` joins a multi-valued RDN. */
  subject?: string;
  /** Lifetime from now, in days (default 30). */
  days?: number;
  /** openssl x509v3 config lines replacing the role's defaults (NOTATION_EXTENSIONS); [] for none. */
  extensions?: readonly string[];
  /** Digest the issuer signs this certificate with (default sha256). */
  digest?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
}

export interface NotationPkiOptions {
  root?: NotationCertSpec;
  /** Adds an intermediate CA between root and leaf. */
  intermediate?: NotationCertSpec | true;
  leaf?: NotationCertSpec;
}

export interface NotationCert {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

export interface NotationPki {
  dir: string;
  root: NotationCert;
  intermediate?: NotationCert;
  leaf: NotationCert;
  /** Leaf first, then the intermediate if any, then the root: the x5c order. */
  chainPem: string[];
}

export const NOTATION_EXTENSIONS = {
  root: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash'],
  intermediate: [
    'basicConstraints = critical,CA:TRUE,pathlen:0',
    'keyUsage = critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
  ],
  leaf: [
    'basicConstraints = CA:FALSE',
    'keyUsage = critical,digitalSignature',
    'extendedKeyUsage = codeSigning',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
  ],
} as const;

const SUBJECTS = {
  root: '/C=US/ST=WA/L=Seattle/O=trustgate-test/CN=Notation Test Root CA',
  intermediate: '/C=US/ST=WA/L=Seattle/O=trustgate-test/CN=Notation Test Intermediate CA',
  leaf: '/C=US/ST=WA/L=Seattle/O=trustgate-test/CN=Notation Test Signer',
};

const KEYGEN: Record<NotationKeyType, string[]> = {
  'rsa-1024': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
  'rsa-2048': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  'rsa-3072': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'],
  'rsa-4096': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096'],
  'ec-p224': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-224'],
  'ec-p256': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'ec-p384': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  'ec-p521': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
};

type Role = 'root' | 'intermediate' | 'leaf';
const serial = (): string => `0x${randomBytes(8).toString('hex').replace(/^./, '1')}`;

/** Without `dir`, a new temp dir the caller removes. */
export async function makeNotationPki(options: NotationPkiOptions = {}, dir?: string): Promise<NotationPki> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), 'trustgate-notation-pki-')));
  await mkdir(root, { recursive: true });
  const intermediateSpec = options.intermediate === true ? {} : options.intermediate;
  const specs: Record<Role, NotationCertSpec | undefined> = {
    root: options.root ?? {},
    intermediate: intermediateSpec,
    leaf: options.leaf ?? {},
  };
  await writeFile(join(root, 'openssl.cnf'), config(specs));
  const rootCert = await makeCert(root, 'root', specs.root!, undefined);
  const intermediate = intermediateSpec ? await makeCert(root, 'intermediate', intermediateSpec, rootCert) : undefined;
  const leaf = await makeCert(root, 'leaf', specs.leaf!, intermediate ?? rootCert);
  const chainPem = [leaf.certPem, ...(intermediate ? [intermediate.certPem] : []), rootCert.certPem];
  return { dir: root, root: rootCert, ...(intermediate ? { intermediate } : {}), leaf, chainPem };
}

function config(specs: Record<Role, NotationCertSpec | undefined>): string {
  const section = (role: Role): string => {
    // openssl rejects an empty section; a comment-only extension set is expressed by not using one.
    const lines = specs[role]?.extensions ?? NOTATION_EXTENSIONS[role];
    return lines.length > 0 ? `[ext_${role}]\n${lines.join('\n')}\n` : '';
  };
  return `[req]\ndistinguished_name = dn\nprompt = no\nstring_mask = utf8only\n[dn]\nCN = unused\n${section('root')}${section('intermediate')}${section('leaf')}`;
}

async function makeCert(dir: string, role: Role, spec: NotationCertSpec, issuer: NotationCert | undefined): Promise<NotationCert> {
  const keyFile = join(dir, `${role}-key.pem`);
  const certFile = join(dir, `${role}.pem`);
  await openssl(['genpkey', ...KEYGEN[spec.key ?? 'ec-p256'], '-out', keyFile], dir);
  const subject = ['-subj', spec.subject ?? SUBJECTS[role], '-multivalue-rdn', '-utf8'];
  const common = ['-days', String(spec.days ?? 30), '-set_serial', serial(), `-${spec.digest ?? 'sha256'}`];
  const extensions = (spec.extensions ?? NOTATION_EXTENSIONS[role]).length > 0 ? ['-extensions', `ext_${role}`] : [];
  const cnf = join(dir, 'openssl.cnf');
  if (!issuer) {
    await openssl(['req', '-x509', '-new', '-config', cnf, '-key', keyFile, ...subject, ...common, ...extensions, '-out', certFile], dir);
  } else {
    const csr = join(dir, `${role}.csr`);
    await openssl(['req', '-new', '-config', cnf, '-key', keyFile, ...subject, '-out', csr], dir);
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        issuer.certFile,
        '-CAkey',
        issuer.keyFile,
        ...common,
        ...(extensions.length > 0 ? ['-extfile', cnf, ...extensions] : []),
        '-out',
        certFile,
      ],
      dir,
    );
  }
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8') };
}
