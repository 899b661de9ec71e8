// Help texts of the admin API commands (keys, policy, explain, robots, breakglass, audit, token).

export const API_OPTIONS = `admin API options (every command but "policy check" and "token mint"):
  --api <url>           trustgate's base URL, e.g. https://trustgate.example:5443 (else $TRUSTGATE_API)
  --token-file <file>   the bearer token (else --token <jwt>, which other users may see in ps, else
                        $TRUSTGATE_TOKEN); never printed
  --ca-file <pem>       the CA that signed trustgate's HTTPS certificate
  --insecure-skip-tls   do not verify trustgate's HTTPS certificate
  --json                print the API's JSON answer instead of a summary
Exit codes: 0 ok; 1 the server refused or failed (its message is printed; 401 and 403 say
"unauthorized" and "forbidden"); 2 usage error; 3 the API cannot be reached.`;

export const KEYS_USAGE = `usage: trustgate keys list
       trustgate keys get <id>
       trustgate keys add --id <id> --pem-file <public.pem> --scope <pattern>... [--purpose sign|scan]...
                          [--kind key|notation-root] [--not-before <time>] [--not-after <time>]
       trustgate keys revoke <id> --reason <text>
       trustgate keys rotate <id> --new-id <id> --pem-file <public.pem> --keep-old-until <time>

The trust store's keys and notation roots (/admin/v1/keys). Reading needs the role key-manager or
auditor, changing needs key-manager (or admin). A --pem-file holding a private key is refused before
anything is sent. A revocation is final and reaches every replica within a second. Rotation adds
--new-id with the old key's scopes and purposes, and keeps the old key valid until --keep-old-until.
Times: RFC 3339 (2027-01-31T12:00:00Z), a date (2027-01-31, midnight UTC) or from now (90d, 12h).

${API_OPTIONS}`;

export const POLICY_USAGE = `usage: trustgate policy check <file>
       trustgate policy check --config <config file> [<file>]
       trustgate policy get
       trustgate policy validate <file>
       trustgate policy apply <file>
       trustgate policy rollback

  check     offline: the proxy's own checks of a policy file; prints "<file>: <field>: <problem>"
            and exits 1 on the first problem, or the rule names and the policy hash and exits 0
            (no --api, no token). With --config, also the checks at start (config/README.md,
            "Checks at start") against that config: its keys.dir, and with redis.url the trust
            store in Redis (read, never written; $TRUSTGATE_REDIS_URL applies) with keys.dir merged
            in as a start would merge it. <file> defaults to the config's policy.file. Prints each
            problem as "<error|warning>: <field>: <message>", then a summary; exits 1 on any error
            (trustgate would refuse to start), 0 with warnings only
  get       the policy the server runs: its hash, where it came from, its text
  validate  the server checks the file without applying it (every problem, as check prints them)
  apply     the server checks the file and applies it on every replica (role key-manager or admin;
            needs Redis); from then on the applied policy, not the policy file, is in force
  rollback  back to the version applied before the current one

${API_OPTIONS}`;

export const EXPLAIN_USAGE = `usage: trustgate explain <registry host>/<repository>:<tag> | <registry host>/<repository>@<digest>

Why trustgate serves or refuses an image, without pulling it (GET /admin/v1/explain; role auditor,
key-manager or admin): the outcome and the rule that decides, each reason, every signature looked
at and why it counts or not, the scan, and a break glass that overrides the gate. trustgate fetches
the manifest from the upstream, and caches or records nothing. Exits 0 whatever the outcome, once
it is explained.

${API_OPTIONS}`;

export const ROBOTS_USAGE = `usage: trustgate robots add <name> --repository <pattern> [--repository <pattern>...]
       trustgate robots list
       trustgate robots revoke <name>

Robot accounts for pull-side access control (/admin/v1/robots; role key-manager or admin). "add"
prints the robot's secret once: trustgate keeps only a hash, and nothing shows it again.

${API_OPTIONS}`;

export const BREAKGLASS_USAGE = `usage: trustgate breakglass add <image> --reason <text> --expires <time>
       trustgate breakglass list
       trustgate breakglass end <id>

Break glass: let pulls the policy denies through until --expires (at most 7 days ahead), with a
reason; every change and each first use is audited (/admin/v1/breakglass; adding and ending need
the role key-manager or admin, listing also auditor). <image> is a pattern over canonical names
(registry.example/team/**) or one digest (registry.example/team/app@sha256:<hex>); who may pull and
the source allowlist are never bypassed. --expires: RFC 3339, a date, or from now (4h, 2d).

${API_OPTIONS}`;

export const AUDIT_USAGE = `usage: trustgate audit [--actor <subject>] [--action <action>|<prefix>.*] [--limit <n>] [--after <cursor>]

The audit log, newest first (GET /admin/v1/audit; role auditor or admin): time, actor, action,
target and outcome of every change and every refused call. --limit 1 to 1000 (default 100); a
"more: --after <cursor>" line gives the next page.

${API_OPTIONS}`;

export const TOKEN_USAGE = `usage: trustgate token mint --subject <name> --roles <role>[,<role>...] [--ttl <duration>]
                          [--data-dir <dir>] [--config <file>]

Mints an admin API token signed with the bootstrap admin key, for a first admin before an OIDC
issuer is set up. The key pair lives in the data directory (made on first use, the private key
mode 0600; never in keys/, never committed): --data-dir, else the config's admin.bootstrap.dataDir,
else .data/admin. The token carries the config's admin issuer and audience, the subject, the
roles (admin, key-manager, scanner, auditor; all but admin may be scoped to repositories as
key-manager@registry.example/team-a/**) in admin.rolesClaim, and expires after --ttl (1m to
24h, default 1h). trustgate accepts it only while its config has admin.bootstrap (it logs a
warning with the key's fingerprint at start). Only the token goes to stdout:

  export TRUSTGATE_TOKEN=$(trustgate token mint --subject alice --roles admin)

  --config <file>   the trustgate config (default $TRUSTGATE_CONFIG, else config/trustgate.yaml)`;
