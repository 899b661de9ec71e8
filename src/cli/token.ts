import { parseRoleClaims } from '../admin/tokens.ts';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { SignJWT } from 'jose';
import { bootstrapKey, DEFAULT_BOOTSTRAP_DIR } from '../admin/bootstrap-key.ts';
import { resolveConfig } from '../config/resolve.ts';
import { isWithin } from '../config/paths.ts';
import { displayPath } from '../tools/display-path.ts';
import { UsageError } from '../tools/usage-error.ts';
import { noPositionals, parseFlags, required } from './args.ts';
import { TOKEN_USAGE } from './admin-usage.ts';
import { dispatch, type Print } from './subcommands.ts';

const ROLES = new Set(['admin', 'key-manager', 'scanner', 'auditor']);
const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_TTL_MS = 86_400_000;

export function tokenCommand(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  return dispatch('token', TOKEN_USAGE, { mint }, args, print, env);
}

/**
 * Mints an admin token signed with the bootstrap key (made in the data directory on first use), with
 * the issuer, audience and roles claim of the config's admin section. Only the token goes to
 * stdout, so `TOKEN=$(trustgate token mint …)` works; notes go to stderr.
 */
async function mint(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    subject: { type: 'string' },
    roles: { type: 'string' },
    ttl: { type: 'string' },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    print(TOKEN_USAGE);
    return 0;
  }
  noPositionals(positionals);
  const subject = required(values.subject, '--subject');
  if (!/^[A-Za-z0-9@._:+/-]{1,128}$/.test(subject)) throw new UsageError('--subject: 1 to 128 letters, digits or "@._:+/-"');
  const roles = [
    ...new Set(
      required(values.roles, '--roles')
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r !== ''),
    ),
  ];
  // A role may be scoped to repositories: "key-manager@registry.example/team-a/**" (admin cannot be).
  const grants = (entry: string): boolean => {
    const parsed = parseRoleClaims([entry]);
    return parsed.roles.length > 0;
  };
  const unknown = roles.find((r) => !ROLES.has(r) && !grants(r));
  if (unknown !== undefined || roles.length === 0)
    throw new UsageError(
      `--roles: a comma-separated list of ${[...ROLES].join(', ')}, each but admin optionally "@<image pattern>"${unknown === undefined ? '' : ` (not "${unknown}")`}`,
    );
  const ttlMs = ttlOf(values.ttl ?? '1h');
  const config = resolveConfig({ config: values.config }, env);
  const admin = config.admin;
  if (admin === undefined)
    throw new Error(
      `${displayPath(config.source)} has no admin section, so there is no admin API to use a token with (config/README.md, "admin")`,
    );
  const dataDir =
    values['data-dir'] !== undefined ? resolve(values['data-dir']) : (admin.bootstrap?.dataDir ?? resolve(DEFAULT_BOOTSTRAP_DIR));
  if (isWithin(config.keysDir, dataDir))
    throw new UsageError(`the bootstrap key never goes into the trust store (${displayPath(config.keysDir)}); choose another --data-dir`);
  const key = bootstrapKey(dataDir, 'private');
  const note = (line: string): boolean => process.stderr.write(`${line}\n`);
  if (key.created)
    note(
      `made the bootstrap admin key in ${displayPath(dataDir)}/ (private key mode 0600: keep it secret, never commit it), fingerprint ${key.fingerprint}`,
    );
  if (admin.bootstrap === undefined)
    note(
      `note: ${displayPath(config.source)} has no admin.bootstrap, so trustgate refuses this token until you add "bootstrap: {}" to its admin section`,
    );
  else if (admin.bootstrap.dataDir !== dataDir)
    note(`note: trustgate verifies with the key in ${displayPath(admin.bootstrap.dataDir)}/ (admin.bootstrap.dataDir), not this one`);
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ [admin.rolesClaim]: roles })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(admin.issuer)
    .setAudience(admin.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlMs / 1000)
    .setJti(randomUUID())
    .sign(key.privateKey!);
  note(
    `token for "${subject}" (roles ${roles.join(', ')}), expires ${new Date(now * 1000 + ttlMs).toISOString()}; bootstrap key ${key.fingerprint}`,
  );
  print(token);
  return 0;
}

function ttlOf(text: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text);
  const ms = match === null ? NaN : Number(match[1]) * UNIT_MS[match[2]!]!;
  if (!(ms >= 60_000 && ms <= MAX_TTL_MS)) throw new UsageError(`--ttl "${text}": a duration from 1m to 24h, such as 15m or 1h`);
  return ms;
}
