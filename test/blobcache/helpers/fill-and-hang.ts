// Child process of crash.test.ts: begins a fill of a large blob in the directory given, writes part of
// it, says so on stdout (`written <digest> <bytes>`), then waits to be killed mid-fill.
import { randomBytes } from 'node:crypto';
import { openBlobStore } from '../../../src/blobcache/store.ts';
import { noopLogger } from '../../../src/log/logger.ts';
import { digestOf } from '../../../src/oci/digest.ts';

const directory = process.argv[2];
if (directory === undefined) throw new Error('usage: fill-and-hang.ts <directory>');
const total = 32 * 1_048_576;
const chunk = 1_048_576;
const bytes = randomBytes(total);
const digest = digestOf(bytes, 'sha256');
const store = await openBlobStore({ directory, maxBytes: 1_073_741_824, logger: noopLogger });
const fill = await store.beginFill(digest, 'docker-hub', 'library/big');
if (fill === undefined) throw new Error('no fill');
let written = 0;
for (; written < total / 2; written += chunk) await fill.write(bytes.subarray(written, written + chunk));
process.stdout.write(`written ${digest} ${written}\n`);
setInterval(() => {}, 60_000); // keep running until SIGKILL
