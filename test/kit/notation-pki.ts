// Test PKI for Notary Project signatures, made with the openssl CLI: a root CA, an optional
// intermediate and a code-signing leaf, with the extensions notation requires by default
// (notaryproject signature-specification.md "Certificate Requirements"). Every role can take other
// keys, subjects, lifetimes, extensions or signing digests to build the certificates the rules forbid,
// or an explicit validity window (in the past or the future; `openssl ca`, since OpenSSL 3.0's `x509` has
// no -not_before). Independent of src/verify on purpose.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openssl } from './tls.ts';

export type NotationKeyType = 'rsa-1024' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ec-p224' | 'ec-p256' | 'ec-p384' | 'ec-p521';

export interface NotationCertSpec {
  key?: NotationKeyType;
  /** openssl `-subj` form, e.g. `/C=US/ST=WA/O=acme/CN=signer`; `+` joins a multi-valued RDN. */
  subject?: string;
  /** Lifetime from now, in days (default 30); from `notBefore` when that is set. */
  days?: number;
  /** Explicit validity start (whole seconds; default now when `notAfter` is set). */
  notBefore?: Date;
  /** Explicit validity end (whole seconds; default `notBefore` + `days`). */
  notAfter?: Date;
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
  await writeFile(join(root, 'openssl.cnf'), config(specs, root));
  const rootCert = await makeCert(root, 'root', specs.root!, undefined);
  const intermediate = intermediateSpec ? await makeCert(root, 'intermediate', intermediateSpec, rootCert) : undefined;
  const leaf = await makeCert(root, 'leaf', specs.leaf!, intermediate ?? rootCert);
  const chainPem = [leaf.certPem, ...(intermediate ? [intermediate.certPem] : []), rootCert.certPem];
  return { dir: root, root: rootCert, ...(intermediate ? { intermediate } : {}), leaf, chainPem };
}

function config(specs: Record<Role, NotationCertSpec | undefined>, dir: string): string {
  const section = (role: Role): string => {
    // openssl rejects an empty section; a comment-only extension set is expressed by not using one.
    const lines = specs[role]?.extensions ?? NOTATION_EXTENSIONS[role];
    return lines.length > 0 ? `[ext_${role}]\n${lines.join('\n')}\n` : '';
  };
  // `openssl ca` (dated certificates only): a throwaway database; -preserveDN keeps the subject as given.
  const ca = [
    '[ca]',
    'default_ca = ca_default',
    '[ca_default]',
    `database = ${join(dir, 'ca-index.txt')}`,
    `new_certs_dir = ${join(dir, 'ca-issued')}`,
    `serial = ${join(dir, 'ca-serial')}`,
    'policy = ca_policy',
    'unique_subject = no',
    'email_in_dn = no',
    '[ca_policy]',
    'commonName = optional',
  ].join('\n');
  return `[req]\ndistinguished_name = dn\nprompt = no\nstring_mask = utf8only\n[dn]\nCN = unused\n${section('root')}${section('intermediate')}${section('leaf')}${ca}\n`;
}

/** openssl ca -startdate/-enddate: YYYYMMDDHHMMSSZ. */
const caTime = (d: Date): string =>
  d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:T]/g, '');

async function makeCert(dir: string, role: Role, spec: NotationCertSpec, issuer: NotationCert | undefined): Promise<NotationCert> {
  const keyFile = join(dir, `${role}-key.pem`);
  const certFile = join(dir, `${role}.pem`);
  await openssl(['genpkey', ...KEYGEN[spec.key ?? 'ec-p256'], '-out', keyFile], dir);
  const subject = ['-subj', spec.subject ?? SUBJECTS[role], '-multivalue-rdn', '-utf8'];
  const common = ['-days', String(spec.days ?? 30), '-set_serial', serial(), `-${spec.digest ?? 'sha256'}`];
  const extensions = (spec.extensions ?? NOTATION_EXTENSIONS[role]).length > 0 ? ['-extensions', `ext_${role}`] : [];
  const cnf = join(dir, 'openssl.cnf');
  if (spec.notBefore !== undefined || spec.notAfter !== undefined) {
    const notBefore = spec.notBefore ?? new Date();
    const notAfter = spec.notAfter ?? new Date(notBefore.getTime() + (spec.days ?? 30) * 86_400_000);
    const csr = join(dir, `${role}.csr`);
    await openssl(['req', '-new', '-config', cnf, '-key', keyFile, ...subject, '-out', csr], dir);
    await mkdir(join(dir, 'ca-issued'), { recursive: true });
    await writeFile(join(dir, 'ca-index.txt'), '', { flag: 'a' });
    await writeFile(join(dir, 'ca-serial'), `${serial().slice(2)}\n`);
    const signer = issuer ? ['-cert', issuer.certFile, '-keyfile', issuer.keyFile] : ['-selfsign', '-keyfile', keyFile];
    await openssl(
      [
        'ca',
        '-batch',
        '-notext',
        '-config',
        cnf,
        ...signer,
        '-in',
        csr,
        '-subj',
        spec.subject ?? SUBJECTS[role],
        '-utf8',
        '-preserveDN',
        '-startdate',
        caTime(notBefore),
        '-enddate',
        caTime(notAfter),
        '-md',
        spec.digest ?? 'sha256',
        ...(extensions.length > 0 ? ['-extfile', cnf, ...extensions] : []),
        '-out',
        certFile,
      ],
      dir,
    );
  } else if (!issuer) {
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

/** The `leaf` extensions of an RFC 3161 TSA signing certificate (RFC 3161 §2.3: timeStamping alone, critical). */
export const TSA_LEAF_EXTENSIONS = [
  'basicConstraints = critical,CA:FALSE',
  'keyUsage = critical,digitalSignature',
  'extendedKeyUsage = critical,timeStamping',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid',
] as const;

export interface OpensslTimestampOptions {
  /** The messageImprint hash (default sha256). */
  hash?: 'sha256' | 'sha384' | 'sha512';
  /** ESS signing-certificate attribute: sha1 → signingCertificate (v1, OpenSSL's default), sha256 → signingCertificateV2. */
  essCertIdAlg?: 'sha1' | 'sha256';
}

/**
 * An RFC 3161 TimeStampToken over the hash of `data`, made by `openssl ts -reply` with the PKI's leaf
 * (made with TSA_LEAF_EXTENSIONS) as the TSA: genTime is the wall clock, accuracy 1s, and the token carries
 * the leaf and the intermediate, if any. An independent second TSA beside @sigstore/mock's (RSA keys work).
 */
export async function opensslTimestampToken(tsa: NotationPki, data: Buffer, options: OpensslTimestampOptions = {}): Promise<Buffer> {
  const hash = options.hash ?? 'sha256';
  const name = randomBytes(4).toString('hex');
  const file = (ext: string): string => join(tsa.dir, `ts-${name}.${ext}`);
  await writeFile(file('serial'), '01\n');
  await writeFile(
    file('cnf'),
    [
      '[tsa]',
      'default_tsa = tsa_config',
      '[tsa_config]',
      `serial = ${file('serial')}`,
      `signer_digest = ${hash}`,
      'default_policy = 1.3.6.1.4.1.99999.1',
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1',
      `ess_cert_id_alg = ${options.essCertIdAlg ?? 'sha1'}`,
      '',
    ].join('\n'),
  );
  await writeFile(file('chain'), tsa.intermediate?.certPem ?? '');
  const digest = createHash(hash).update(data).digest('hex');
  await openssl(['ts', '-query', '-digest', digest, `-${hash}`, '-cert', '-no_nonce', '-out', file('tsq')], tsa.dir);
  await openssl(
    [
      'ts',
      '-reply',
      '-config',
      file('cnf'),
      '-queryfile',
      file('tsq'),
      '-signer',
      tsa.leaf.certFile,
      '-inkey',
      tsa.leaf.keyFile,
      ...(tsa.intermediate ? ['-chain', file('chain')] : []),
      '-token_out',
      '-out',
      file('der'),
    ],
    tsa.dir,
  );
  return readFile(file('der'));
}
