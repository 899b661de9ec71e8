#!/usr/bin/env node
// The proxy's entry (`npm start`, `node dist/main.js [--config <file>]`, the Dockerfile). The
// `trustgate` command (src/cli.ts) runs the same `serve` for `trustgate [serve]`.
import { serve } from './runtime/serve.ts';

export { serve };

void serve(process.argv.slice(2));
