// The import reader itself: every import form is seen, so the architecture test cannot pass by missing one.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { cycles, folderGraph, readSourceTree } from './import-graph.ts';

it('reads static, multi-line, type-only, re-export, side-effect and dynamic imports; ignores comments', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-arch-'));
  mkdirSync(join(root, 'a'));
  mkdirSync(join(root, 'b'));
  writeFileSync(
    join(root, 'a/x.ts'),
    [
      "import { one } from '../b/one.ts';",
      'import {',
      '  two,',
      "} from '../b/two.ts';",
      "import type { Three } from '../b/three.ts';",
      "export { four } from '../b/four.ts';",
      "import '../b/five.ts';",
      "const six = await import('../b/six.ts');",
      "// import { no } from '../b/comment.ts';",
      "import Redis from 'ioredis';",
    ].join('\n'),
  );
  writeFileSync(join(root, 'b/one.ts'), "import { x } from '../a/x.ts';");
  const files = readSourceTree(root);
  const x = files.find((f) => f.path === 'a/x.ts')!;
  assert.deepEqual([...x.localImports].sort(), ['b/five.ts', 'b/four.ts', 'b/one.ts', 'b/six.ts', 'b/three.ts', 'b/two.ts']);
  assert.deepEqual(x.packageImports, ['ioredis']);
  assert.deepEqual(cycles(folderGraph(files)), [['a', 'b']]);
});
