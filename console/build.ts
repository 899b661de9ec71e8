// Builds the security console (docs/console.md) into dist/admin-ui/: one hashed JS file and one
// hashed CSS file under assets/, and index.html naming them. No inline script or style anywhere,
// so the console runs under `script-src 'self'` with no 'unsafe-inline'. `npm run build` runs it.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const HERE = import.meta.dirname;
export const CONSOLE_OUT = resolve(HERE, '..', 'dist', 'admin-ui');

export async function buildConsole(outDir: string = CONSOLE_OUT): Promise<{ js: string; css: string; bytes: number }> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(HERE, 'src', 'main.tsx')],
    outdir: join(outDir, 'assets'),
    entryNames: 'console-[hash]',
    assetNames: 'console-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs);
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (js === undefined || css === undefined) throw new Error(`the console build made no JS or CSS file: ${outputs.join(', ')}`);
  const html = readFileSync(join(HERE, 'index.html'), 'utf8')
    .replace('%JS%', `/admin/ui/assets/${basename(js)}`)
    .replace('%CSS%', `/admin/ui/assets/${basename(css)}`);
  writeFileSync(join(outDir, 'index.html'), html);
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { js: basename(js), css: basename(css), bytes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = performance.now();
  const built = await buildConsole();
  const ms = Math.round(performance.now() - started);
  console.error(`console: dist/admin-ui/ (${built.js}, ${built.css}; ${(built.bytes / 1024).toFixed(1)} KiB) in ${ms} ms`);
}
