// The `trustgate` command's help texts, kept apart so `--help` loads nothing else.

export const USAGE = `usage: trustgate [serve] [--config <file>]
       trustgate <command> [options]

A registry proxy that serves only images whose signatures pass policy.

commands:
  serve    run the proxy (the default): --config <file>, else TRUSTGATE_CONFIG, else
           config/trustgate.yaml (config/README.md)
  sign     sign an image in a registry in cosign's format with a local key
  keygen   make a key pair for sign and a keys/ entry for its public half
  demo     a signed and an unsigned image pulled through trustgate: one allowed, one denied
  revoke   revoke a trust-store key in the shared (Redis) store, for every replica, for good
  scan-worker
           the reference scanner: scans queued images with trivy and posts the reports
  doctor   check a deployment from its config: the checks at start, Redis, each upstream,
           clocks, TLS certificates and the trust store's certificates (one line per check)

admin API commands (--api <url>, a token; "trustgate keys --help" lists the common options):
  token mint   mint an admin token with the bootstrap key (for the first admin)
  keys         list, get, add, revoke and rotate trust-store keys
  policy       check a policy file offline; get, validate, apply and roll back the server's policy
  explain      why an image is served or refused, without pulling it
  robots       add, list and revoke robot accounts for pulls
  breakglass   add, list and end time-boxed exceptions to the policy
  audit        read the audit log

Run "trustgate <command> --help" for a command's options.
Exit codes: 0 ok, 1 failure (for admin commands: the server refused or failed), 2 usage error,
3 the admin API cannot be reached.`;

export const SERVE_USAGE = `usage: trustgate serve [--config <file>]

Runs the proxy until SIGINT or SIGTERM; SIGHUP reloads keys/ and the policy. The config file is
--config, else $TRUSTGATE_CONFIG, else config/trustgate.yaml; every field is in config/README.md.
An invalid config exits 2, and so does an error of the checks at start (a keys.dir that does not
exist, an id the policy trusts that the trust store lacks: config/README.md, "Checks at start"),
with every problem on stderr; warnings are logged (event setup_problem) and the proxy starts.`;

export const DOCTOR_USAGE = `usage: trustgate doctor [--config <file>]

Checks a deployment from its config (--config, else $TRUSTGATE_CONFIG, else config/trustgate.yaml;
$TRUSTGATE_REDIS_URL applies, and the secrets it names must be readable, as for serve). Prints one
line per check, "ok", "warn" or "fail", and exits 1 when any check fails, else 0:

  config                 the config loads
  setup                  the checks at start (config/README.md, "Checks at start") on the policy
                         that runs (with Redis, an API policy wins over the file) against the trust
                         store as a start would leave it (keys.dir merged into Redis): one line per
                         problem, an error is a fail
  redis                  reachable, its version; redis eviction: maxmemory-policy (noeviction or
                         volatile-*); redis persistence: appendonly or save rules
  upstream <name>        GET /v2/ with the configured credentials through the upstream client:
                         200, directly or after the token flow, is ok
  upstream <name> clock  this machine's clock against the upstream's Date header (warn beyond 60 s)
  upstream <name> tls    an https upstream's certificate, checked as the client checks it (its
                         tls.caFile, else the system CAs): trusted, for its host, not expiring
                         within 14 days
  listen tls             the listener's certificate (listen.tls): readable, matching its key, not
                         expiring within 14 days (plain HTTP is a warning)
  trust certificates     the soonest certificate end in the trust store (notation roots, TSA roots,
                         sigstore roots' CAs; keys have none): fail when expired, warn within 30 days

It writes nothing (Redis is only read) and prints no secret: no token, password or key, and the
Redis URL only as its topology and hosts.`;

export const SIGN_USAGE = `usage: trustgate sign --key <private.pem> --registry <url> <repository>:<tag> | <repository>@<digest>

Signs an image in a registry the way \`cosign sign --key\` does, without cosign: resolves the tag
to the digest of the exact manifest bytes, signs cosign's simple-signing payload, and stores it
under the tag sha256-<hex>.sig in the same repository (appending to signatures already there).
For development and tests; trustgate verifies it like any cosign signature.

  --key <file>          unencrypted PEM private key: ECDSA (SHA-256), Ed25519 or RSA (PKCS#1 v1.5),
                        e.g. from \`trustgate keygen\` (cosign's encrypted keys are not read)
  --registry <url>      the registry, e.g. http://127.0.0.1:5000
  --reference <name>    docker-reference to sign (default <registry host>/<repository>)
  --username <user>     log in to the registry (Basic, or its token service)
  --password-env <VAR>  with --username: the environment variable holding the password
  --insecure-skip-tls   do not verify the registry's HTTPS certificate`;

export const KEYGEN_USAGE = `usage: trustgate keygen --out <dir> --id <id> --scope <pattern> [--scope <pattern>...] [--keys <dir>]

Makes an ECDSA P-256 key pair for \`trustgate sign\`, and a trust store entry for its public half:
  <out>/<id>.key     the private key, PKCS#8 PEM, mode 0600: keep it secret, never commit it
  <keys>/<id>.pub    the public key
  <keys>/<id>.yaml   its metadata: the scopes given, purposes [sign]
The last two are a keys/ entry (keys/README.md): point --keys at the trust store, or copy them.

  --out <dir>        where the private key goes (made if missing)
  --id <id>          lowercase letters, digits, ".", "_" or "-"
  --scope <pattern>  images the key may sign for, e.g. "registry.example/team/**" (repeatable)
  --keys <dir>       where the public key and metadata go (default <out>/keys); never the same
                     directory as --out: a trust store holds public material only
Existing files are never overwritten.`;

export const DEMO_USAGE = `usage: trustgate demo [--keep] [--workdir <dir>]

Shows trustgate at work on this machine (needs the Debian packages docker-registry and skopeo):
starts a throwaway registry on a free loopback port, pushes a signed and an unsigned sample image
(signed with a demo key made on first run and reused after), starts trustgate in front of it with
a one-rule policy, and pulls both through trustgate with skopeo: one allowed, one denied with its
reason. Exits 0 only if exactly that happened.

  --keep           leave trustgate and the registry running until Ctrl-C
  --workdir <dir>  where the demo key and each run's files go (default .data/demo, ignored by git)`;

export const REVOKE_USAGE = `usage: trustgate revoke <key id> --reason <text> [--config <file>]

Revokes a trust-store entry in the Redis store the config names (redis.url, or
$TRUSTGATE_REDIS_URL). Every replica stops accepting signatures made with it within a second,
old ones included (a key-based signature carries no trusted time), and no restart or reload of
keys/ undoes it. Without Redis there is no shared store, and this exits 1.`;

export const SCAN_WORKER_USAGE = `usage: trustgate scan-worker --api <url> [--config <file>] [--token-file <path>] [--trivy <path>]
                             [--timeout <ms>] [--reclaim-idle <ms>] [--consumer <name>] [--once]

The reference scanner. Takes scan requests from trustgate's queue (the Redis stream under the
config's redis.prefix), runs \`trivy image --format json --quiet <image>\` on each image straight
from its upstream (the upstream's url host, --insecure for http://; never through trustgate, which
refuses unscanned images), and posts the report to POST <api>/admin/v1/scans. A request is
acknowledged once its report is stored, or refused (4xx); when trivy fails or times out or the API
is unavailable it stays claimed, and any worker retries it after --reclaim-idle. Runs until SIGINT
or SIGTERM, finishing the current image. Nothing starts it unless you do.

  --api <url>           trustgate's base URL, e.g. https://trustgate.example:5443 (required)
  --config <file>       the trustgate config: redis.url, redis.prefix, upstreams, log.level
                        (default $TRUSTGATE_CONFIG, else config/trustgate.yaml; $TRUSTGATE_REDIS_URL
                        and $TRUSTGATE_LOG_LEVEL apply as for serve)
  --token-file <path>   a bearer token with the role "scanner", read again for each report;
                        else $TRUSTGATE_SCANNER_TOKEN (never logged; trivy gets no
                        TRUSTGATE_* variable)
  --trivy <path>        the trivy executable (default "trivy" on PATH); a missing one exits 1
  --timeout <ms>        one trivy run's limit (default 600000)
  --reclaim-idle <ms>   retry a request claimed this long ago and not acknowledged (default the
                        config's scans.requeueAfterMs); keep it above --timeout
  --consumer <name>     this worker's name in the consumer group (default <hostname>-<pid>)
  --once                take at most one request, then exit: 0 if its report was stored or the
                        queue was empty, 1 otherwise

Registry credentials are trivy's own: set TRIVY_USERNAME and TRIVY_PASSWORD (trivy reads them).`;
