#!/usr/bin/env node
// The proxy's entry (`npm start`, `node dist/main.js [--config <file>]`, the Dockerfile). The
// `trustgate` command (src/cli.ts) runs the same `serve` for `trustgate [serve]`.
import { configFlags } from './config/resolve.ts';
import { serve } from './runtime/serve.ts';

export { serve };

void serve(configFlags(process.argv.slice(2)), process.env);
