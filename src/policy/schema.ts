import { z } from 'zod';
import { KEY_ID } from '../trust/key-id.ts';

// The policy file (default config/policy.yaml). Every field is documented in config/README.md.
const identity = z.string().min(1);

const keylessIdentity = z.strictObject({
  /** The signer's name in `required` and the decision record: `<root>/<name>`; default `<root>/<index>`. */
  name: z.string().regex(KEY_ID, 'lowercase letters, digits, ".", "_" and "-", at most 63').optional(),
  issuer: z.string().min(1).optional(),
  issuerRegExp: z.string().min(1).optional(),
  subject: z.string().min(1).optional(),
  subjectRegExp: z.string().min(1).optional(),
  /** GitHub workflow claims of the certificate (Fulcio extensions 1.3.6.1.4.1.57264.1.2–.6), exact. */
  githubWorkflow: z
    .strictObject({
      trigger: z.string().min(1).optional(),
      sha: z.string().min(1).optional(),
      name: z.string().min(1).optional(),
      repository: z.string().min(1).optional(),
      ref: z.string().min(1).optional(),
    })
    .optional(),
});

const keylessAuthority = z.strictObject({
  /** A `sigstore-root` trust-store id. */
  root: z.string().min(1),
  /** Required and non-empty (checked with its own message in parse.ts). */
  identities: z.array(keylessIdentity).optional(),
  transparencyLog: z.enum(['required', 'optional', 'off']).default('required'),
});

const signatures = z.strictObject({
  /** Trust-store ids (keys or notation roots) this rule accepts; omitted: any entry whose scope covers the image. */
  trust: z.array(z.string().min(1)).min(1).optional(),
  threshold: z.number().int().min(1).max(16).default(1),
  required: z.array(z.string().min(1)).default([]),
  /** cosign `critical.identity.docker-reference`: `any` (cosign's own behaviour), `repository`, or `exact`. */
  signedIdentity: z.enum(['any', 'repository', 'exact']).default('any'),
  notation: z.strictObject({ trustedIdentities: z.array(identity).min(1).default(['*']) }).default({ trustedIdentities: ['*'] }),
  /** Where cosign signatures live when signed with COSIGN_REPOSITORY: a canonical repository name. */
  signatureRepository: z.string().min(1).optional(),
  /** Keyless (Fulcio) and bring-your-own PKI certificate signatures (docs/keyless.md "Policy"). */
  keyless: z.array(keylessAuthority).default([]),
  /** Key-based signatures count only with a verified Rekor entry from this sigstore root's logs. */
  rekor: z.strictObject({ root: z.string().min(1) }).optional(),
});

const scan = z.strictObject({
  required: z.boolean().default(true),
  /** The highest severity that may pass. */
  maxSeverity: z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']).default('HIGH'),
  /** UNKNOWN-severity findings block (true) or pass (false). */
  blockUnknown: z.boolean().default(false),
  /** A scan older than this is stale, e.g. "7d", "12h". */
  maxAge: z.string().default('7d'),
  ignoreUnfixed: z.boolean().default(false),
  allow: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{2,63}$/, 'a vulnerability id such as CVE-2024-1234'),
        repository: z.string().min(1).optional(),
        expires: z.iso.datetime({ offset: true }),
        reason: z.string().max(500).optional(),
      }),
    )
    .default([]),
});

const rule = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'letters, digits, ".", "_" and "-", at most 63'),
  images: z.array(z.string().min(1)).min(1),
  mode: z.enum(['enforce', 'warn', 'off']).default('enforce'),
  signatures: signatures.default({
    threshold: 1,
    required: [],
    signedIdentity: 'any',
    notation: { trustedIdentities: ['*'] },
    keyless: [],
  }),
  /** `index`: an allowed index covers the children it lists; `each`: every child needs its own signatures. */
  multiArch: z.enum(['index', 'each']).default('index'),
  /** The scan requirement; omitted: no scan is required. */
  scan: scan.optional(),
});

export const policySchema = z.strictObject({
  version: z.literal(1),
  rules: z.array(rule).default([]),
});

export type PolicyFile = z.infer<typeof policySchema>;
export type RuleFile = z.infer<typeof rule>;
