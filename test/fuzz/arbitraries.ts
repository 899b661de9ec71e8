// Generators shared by the fuzz targets: hostile text and bytes, JSON values with prototype keys
// and nesting deep enough to overflow recursive code, edits of JSON trees, bit flips, digests.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';

/** Any UTF-16 code units (lone surrogates and controls included), ordinary text, or graphemes. */
export const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ maxLength: 120 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
);

export const anyBytes = fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b));

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'then'];
export const hostileKey = fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 12 }));

export const scalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 1.5, 2, 1),
  anyText,
);

/** JSON text nested `depth` levels (arrays or objects): V8's JSON.stringify overflows its stack past ~5,000. */
export function nestedJsonText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/**
 * JSON.stringify without recursion, so values nested deeper than V8's stack still serialize
 * (undefined members are dropped as JSON.stringify drops them; non-finite numbers become null).
 */
export function jsonText(value: unknown): string {
  type Task = { readonly text: string } | { readonly value: unknown };
  const out: string[] = [];
  const stack: Task[] = [{ value }];
  while (stack.length > 0) {
    const task = stack.pop()!;
    if ('text' in task) {
      out.push(task.text);
      continue;
    }
    const v = task.value;
    if (typeof v !== 'object' || v === null) {
      out.push(JSON.stringify(v) ?? 'null');
      continue;
    }
    const entries: Array<readonly [string | undefined, unknown]> = Array.isArray(v)
      ? v.map((e) => [undefined, e === undefined ? null : e] as const)
      : Object.entries(v).filter(([, e]) => e !== undefined);
    const tasks: Task[] = [{ text: Array.isArray(v) ? '[' : '{' }];
    entries.forEach(([key, e], i) => {
      if (i > 0) tasks.push({ text: ',' });
      if (key !== undefined) tasks.push({ text: `${JSON.stringify(key)}:` });
      tasks.push({ value: e });
    });
    tasks.push({ text: Array.isArray(v) ? ']' : '}' });
    for (let i = tasks.length - 1; i >= 0; i--) stack.push(tasks[i]!);
  }
  return out.join('');
}

/** Shallow, or past the ~4,100 levels where V8's recursive JSON.stringify runs out of stack. */
const depth = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 4_000, max: 9_000 }));

export const deepValue: fc.Arbitrary<unknown> = fc
  .record({ depth, kind: fc.constantFrom<'array' | 'object'>('array', 'object') })
  .map(({ depth, kind }) => {
    const value = JSON.parse(nestedJsonText(depth, kind)) as object;
    // fast-check prints counterexamples recursively too: give it a short name instead.
    Object.defineProperty(value, fc.toStringMethod, { value: () => `<${kind} nested ${depth} deep>` });
    return value as unknown;
  });

/** An object with these own, enumerable entries, even `__proto__` (as JSON.parse would make it). */
export function objectOf(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

function jsonValues(deep: boolean): fc.Arbitrary<unknown> {
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map(objectOf),
      ...(deep ? [deepValue] : []),
    ),
  })).value;
}

/** JSON values, some nested past the stack. */
export const jsonish: fc.Arbitrary<unknown> = jsonValues(true);
/** JSON values of ordinary depth (for serializers that recurse, such as YAML's). */
export const shallowJsonish: fc.Arbitrary<unknown> = jsonValues(false);

/** YAML a hostile or careless author writes: alias bombs, dangling aliases, tags, complex keys, deep flow nesting, junk. */
export const hostileYamlFragment: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 2, max: 14 }).map((levels) => {
    let text = 'a0: &a0 [x, x]\n';
    for (let i = 1; i < levels; i++) text += `a${i}: &a${i} [*a${i - 1}, *a${i - 1}]\n`;
    return text;
  }),
  fc.constantFrom(
    'rules: *nowhere\n',
    'version: !!binary aGVsbG8=\n',
    'rules: !!set { a, b }\n',
    'rules: !!omap [ a: 1 ]\n',
    'version: !!timestamp 2001-12-14\n',
    '? [a, b]\n: 1\n',
    'base: &b { x: 1 }\nrules: { <<: *b }\n',
    '---\nversion: 1\n---\nversion: 2\n',
    'version: 1\nversion: 1\n',
    '%YAML 1.1\n---\nversion: 1\n',
    'rules: !<tag:yaml.org,2002:js/function> "x"\n',
    '\t- x',
    'a: "\\u0000"\n',
    'a: 1e999\n',
    'a: .nan\n',
    'version: 0x1\n',
    'version: 1.0\n',
  ),
  // Past ~1,000 levels yaml reports RESOURCE_EXHAUSTION; deeper only costs time (0.2 s at 1,000, 5 s at 200,000).
  fc
    .oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 100 }) }, { weight: 1, arbitrary: fc.integer({ min: 900, max: 1_300 }) })
    .map((d) => `rules: ${'['.repeat(d)}${']'.repeat(d)}\n`),
  fc.integer({ min: 1, max: 150 }).map((d) => `rules:\n${Array.from({ length: d }, (_, i) => `${'  '.repeat(i + 1)}- `).join('\n')}x\n`),
  anyText,
);

/** Random JSON text, invalid JSON, or raw bytes: what a hostile body can be. */
export const hostileBody: fc.Arbitrary<Buffer> = fc.oneof(
  jsonish.map((v) => Buffer.from(jsonText(v))),
  anyText.map((t) => Buffer.from(t)),
  anyBytes,
  fc
    .record({ depth, kind: fc.constantFrom<'array' | 'object'>('array', 'object') })
    .map(({ depth: d, kind }) => Buffer.from(nestedJsonText(d, kind))),
);

// ---- edits of JSON trees -------------------------------------------------------------------

export type JsonEdit =
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'replace'; readonly at: number; readonly value: unknown }
  | { readonly op: 'wrap'; readonly at: number }
  | { readonly op: 'stringify'; readonly at: number }
  | { readonly op: 'add'; readonly at: number; readonly key: string; readonly value: unknown };

export const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: jsonish }),
  fc.record({ op: fc.constant('wrap' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('stringify' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: hostileKey, value: jsonish }),
);

type Path = readonly (string | number)[];

/** Edits reach this deep; below it (deeply nested hostile values) nodes are shared, never edited. */
const EDIT_DEPTH = 16;

function pathsOf(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (out.length > 400 || path.length >= EDIT_DEPTH) return out;
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...path, i], out));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) pathsOf(v, [...path, k], out);
  return out;
}

function cloneTop(value: unknown, depth = 0): unknown {
  if (depth > EDIT_DEPTH || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => cloneTop(v, depth + 1));
  return objectOf(Object.entries(value).map(([k, v]) => [k, cloneTop(v, depth + 1)] as const));
}

/** A copy of `value` with each edit applied at the node its `at` picks (modulo the node count). */
export function applyEdits(value: unknown, edits: readonly JsonEdit[]): unknown {
  let root = cloneTop(value);
  for (const edit of edits) root = applyEdit(root, edit);
  return root;
}

function applyEdit(root: unknown, edit: JsonEdit): unknown {
  const paths = pathsOf(root);
  const path = paths[edit.at % paths.length]!;
  const current = path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root);
  const next = ((): unknown => {
    switch (edit.op) {
      case 'delete':
        return undefined;
      // Inserted values are copied: a value inserted twice must not become a cycle when one copy is edited.
      case 'replace':
        return cloneTop(edit.value);
      case 'wrap':
        return [current];
      case 'stringify':
        return jsonText(current);
      case 'add':
        if (typeof current !== 'object' || current === null || Array.isArray(current)) return current;
        return objectOf([...Object.entries(current), [edit.key, cloneTop(edit.value)]]);
    }
  })();
  if (path.length === 0) return next;
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root) as Record<
    string | number,
    unknown
  >;
  const key = path[path.length - 1]!;
  if (next === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else {
    Object.defineProperty(parent, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

// ---- bytes and digests ---------------------------------------------------------------------

export interface BitFlip {
  readonly index: number;
  readonly bit: number;
}
export const bitFlip: fc.Arbitrary<BitFlip> = fc.record({ index: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) });

/** A copy with one bit changed: always different bytes. */
export function flipBit(bytes: Buffer, { index, bit }: BitFlip): Buffer {
  if (bytes.length === 0) return Buffer.from([1 << bit]);
  const out = Buffer.from(bytes);
  const at = index % out.length;
  out[at] = out[at]! ^ (1 << bit);
  return out;
}

export const sha256 = (bytes: Uint8Array | string): `sha256:${string}` => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export const anyDigest = fc.uint8Array({ maxLength: 64 }).map((b) => sha256(b));

// ---- typed outcomes ------------------------------------------------------------------------

export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

export function settle<T>(run: () => T): Settled<T> {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

export async function settleAsync<T>(run: () => Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error };
  }
}

type ErrorClass = abstract new (...args: any[]) => Error;

/** Fails unless `error` is one of the project's own error types (never a TypeError, RangeError…). */
export function assertTyped(error: unknown, ...allowed: ErrorClass[]): void {
  if (allowed.some((type) => error instanceof type)) return;
  const what = error instanceof Error ? `${error.name}: ${error.message.slice(0, 300)}` : String(error);
  assert.fail(`threw an untyped error (${what}); only ${allowed.map((t) => t.name).join(', ')} may escape`);
}
