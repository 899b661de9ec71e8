import { isDigest, isRepositoryName, isTag, type Digest } from '../oci/reference.ts';
import { readPrivateKey } from '../tools/cosign-payload.ts';
import { describeSigned, signImage } from '../tools/sign-image.ts';
import { UsageError } from '../tools/usage-error.ts';
import { parseFlags, required } from './args.ts';
import { SIGN_USAGE } from './usage.ts';

export async function signCommand(args: readonly string[], print: (line: string) => void, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    key: { type: 'string' },
    registry: { type: 'string' },
    reference: { type: 'string' },
    username: { type: 'string' },
    'password-env': { type: 'string' },
    'insecure-skip-tls': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    print(SIGN_USAGE);
    return 0;
  }
  const keyFile = required(values.key, '--key');
  const registry = required(values.registry, '--registry');
  if (positionals.length !== 1) throw new UsageError('name exactly one image: <repository>:<tag> or <repository>@<digest>');
  const registryUrl = URL.canParse(registry) ? new URL(registry) : undefined;
  if (registryUrl === undefined || !['http:', 'https:'].includes(registryUrl.protocol))
    throw new UsageError(`--registry "${registry}": an http:// or https:// URL`);
  const image = parseImage(positionals[0]!, registryUrl.host);
  const credentials = readCredentials(values.username, values['password-env'], env);
  const signed = await signImage({
    url: registry,
    repository: image.repository,
    reference: image.reference,
    privateKey: readPrivateKey(keyFile),
    ...(values.reference === undefined ? {} : { dockerReference: values.reference }),
    ...(credentials === undefined ? {} : { credentials }),
    insecureSkipTls: values['insecure-skip-tls'] ?? false,
  });
  for (const line of describeSigned(signed)) print(line);
  return 0;
}

function parseImage(text: string, registryHost: string): { repository: string; reference: { tag: string } | { digest: Digest } } {
  // `<registry host>/repo:tag` is accepted when the host is the --registry's.
  const bare = registryHost !== '' && text.startsWith(`${registryHost}/`) ? text.slice(registryHost.length + 1) : text;
  const at = bare.indexOf('@');
  const colon = bare.lastIndexOf(':');
  const [repository, reference] =
    at !== -1
      ? [bare.slice(0, at), { digest: bare.slice(at + 1) }]
      : colon > bare.lastIndexOf('/')
        ? [bare.slice(0, colon), { tag: bare.slice(colon + 1) }]
        : [bare, undefined];
  if (reference === undefined) throw new UsageError(`"${text}": name a tag or a digest (<repository>:<tag> or <repository>@<digest>)`);
  if (!isRepositoryName(repository))
    throw new UsageError(`"${repository}" is not a repository name (lowercase path components; the registry goes in --registry)`);
  if ('digest' in reference && !isDigest(reference.digest)) throw new UsageError(`"${reference.digest}" is not a sha256 or sha512 digest`);
  if ('tag' in reference && !isTag(reference.tag)) throw new UsageError(`"${reference.tag}" is not a tag`);
  return { repository, reference: reference as { tag: string } | { digest: Digest } };
}

function readCredentials(
  username: string | undefined,
  passwordEnv: string | undefined,
  env: NodeJS.ProcessEnv,
): { username: string; password: string } | undefined {
  if (username === undefined && passwordEnv === undefined) return undefined;
  if (username === undefined || passwordEnv === undefined) throw new UsageError('--username and --password-env go together');
  const password = env[passwordEnv];
  if (password === undefined || password === '') throw new UsageError(`--password-env: environment variable ${passwordEnv} is not set`);
  return { username, password };
}
