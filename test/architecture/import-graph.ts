// Reads the import graph of src/ from the source text: every static `import … from`,
// `export … from`, side-effect `import '…'` and dynamic `import('…')`. Used by the
// architecture test and by `npm run arch` to print the folder graph.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface SourceFile {
  /** Path relative to src/, with forward slashes: `gate/judge.ts`. */
  readonly path: string;
  /** Relative imports resolved to paths under src/. */
  readonly localImports: readonly string[];
  /** Bare specifiers: `express`, `node:fs`, `ioredis`. */
  readonly packageImports: readonly string[];
}

const IMPORT =
  /(?:^|[;\s])(?:import|export)\s[^;'"]*?from\s*['"]([^'"]+)['"]|(?:^|[;\s])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(full);
  }
  return out.sort();
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

export function readSourceTree(srcRoot: string): SourceFile[] {
  const root = resolve(srcRoot);
  return walk(root).map((file) => {
    const text = stripComments(readFileSync(file, 'utf8'));
    const localImports: string[] = [];
    const packageImports: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec === undefined) continue;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
        localImports.push(relative(root, target).split(sep).join('/'));
      } else packageImports.push(spec);
    }
    return { path: relative(root, file).split(sep).join('/'), localImports, packageImports };
  });
}

/** The folder a file belongs to: its first path segment, or `(root)` for files directly in src/. */
export function folderOf(path: string): string {
  const i = path.indexOf('/');
  return i === -1 ? '(root)' : path.slice(0, i);
}

export function folderGraph(files: readonly SourceFile[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const f of files) {
    const from = folderOf(f.path);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const target of f.localImports) {
      const to = folderOf(target);
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** Strongly connected components with more than one member (Tarjan). Each is one folder cycle. */
export function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}
