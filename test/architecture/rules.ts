// The architecture rules as pure functions over the import graph, so the suite can show each rule
// catching a planted violation as well as passing on src/.
import { cycles, folderGraph, folderOf, type SourceFile } from './import-graph.ts';
import { PURE_PACKAGES, type Layer } from './layers.ts';

export interface Violation {
  readonly rule: 'cycle' | 'unplaced-folder' | 'upward-import' | 'impure-package' | 'impure-call';
  readonly detail: string;
}

/** What the pure core must not do even without an import: read the clock, the environment or randomness. */
const IMPURE_CALLS: readonly [RegExp, string][] = [
  [/\bDate\.now\(\)/, 'Date.now()'],
  [/\bnew Date\(\)/, 'new Date()'],
  [/\bprocess\.env\b/, 'process.env'],
  [/\bMath\.random\(\)/, 'Math.random()'],
  [/\bsetTimeout\(|\bsetInterval\(/, 'timers'],
];

export function checkArchitecture(
  files: readonly SourceFile[],
  layers: readonly Layer[],
  sourceText: (path: string) => string,
): Violation[] {
  const out: Violation[] = [];
  const layerOf = new Map<string, Layer>();
  for (const layer of layers) for (const folder of layer.folders) layerOf.set(folder, layer);

  for (const cycle of cycles(folderGraph(files))) out.push({ rule: 'cycle', detail: cycle.join(' ⇄ ') });

  const folders = new Set(files.map((f) => folderOf(f.path)));
  for (const folder of [...folders].sort()) {
    if (!layerOf.has(folder)) out.push({ rule: 'unplaced-folder', detail: `${folder}/ is in no layer of docs/architecture.md` });
  }

  for (const file of files) {
    const from = layerOf.get(folderOf(file.path));
    if (from === undefined) continue;
    for (const target of file.localImports) {
      const to = layerOf.get(folderOf(target));
      if (to !== undefined && to.rank > from.rank) {
        out.push({ rule: 'upward-import', detail: `${file.path} (${from.name}) imports ${target} (${to.name})` });
      }
    }
    if (!from.pure) continue;
    for (const spec of file.packageImports) {
      if (!PURE_PACKAGES.has(spec)) out.push({ rule: 'impure-package', detail: `${file.path} (pure core) imports ${spec}` });
    }
    const text = sourceText(file.path);
    for (const [pattern, name] of IMPURE_CALLS) {
      if (pattern.test(text)) out.push({ rule: 'impure-call', detail: `${file.path} (pure core) uses ${name}; take it as a parameter` });
    }
  }
  return out;
}
