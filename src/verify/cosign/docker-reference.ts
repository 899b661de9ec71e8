// distribution/reference `ParseNormalizedNamed` (normalize.go, regexp.go, reference.go), the
// parser containers/image uses for signed identities: `busybox` → `docker.io/library/busybox`.

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])`;
const DOMAIN_AND_PORT = `${HOST}(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN_AND_PORT}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)$`);
const IDENTIFIER = /^[a-f0-9]{64}$/;
/** go-digest: only registered algorithms, lowercase hex of the exact length. */
const VALID_DIGEST = /^(?:sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;
const PATH_MAX = 255; // RepositoryNameTotalLengthMax

export interface DockerReference {
  /** Domain and path, e.g. `docker.io/library/busybox`. */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** `name[:tag][@digest]`, as Go's String() writes it. */
export function referenceString(ref: DockerReference): string {
  return `${ref.name}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

export function parseNormalizedNamed(input: string): DockerReference | undefined {
  if (IDENTIFIER.test(input)) return undefined;
  const [domain, remainder] = splitDockerDomain(input);
  const match = REFERENCE.exec(`${domain}/${remainder}`);
  if (!match) return undefined;
  const [, name = '', tag, digest] = match;
  const path = ANCHORED_NAME.exec(name)?.[2] ?? name;
  if (path.length > PATH_MAX) return undefined;
  if (digest !== undefined && !VALID_DIGEST.test(digest)) return undefined;
  return { name, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

function splitDockerDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash === -1) return ['docker.io', `library/${name}`];
  const maybeDomain = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  const isDomain = maybeDomain === 'localhost' || /[.:]/.test(maybeDomain) || maybeDomain.toLowerCase() !== maybeDomain;
  let [domain, remote] = isDomain ? [maybeDomain, rest] : ['docker.io', name];
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !remote.includes('/')) remote = `library/${remote}`;
  return [domain, remote];
}
