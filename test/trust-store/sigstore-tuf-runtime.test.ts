import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import request from 'supertest';
import { appFor, singleUpstream } from '../support/app-harness.ts';
import { makeTrustedRoot, serveRepo, TufRepo } from './sigstore-tuf-repo.ts';

// The runtime starts the refresh loop when trust.sigstoreTuf is configured (the first refresh in
// the background), exports its metrics, and stops it on close.

const dir = mkdtempSync(join(tmpdir(), 'tg-tuf-runtime-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('trust.sigstoreTuf in the runtime', () => {
  it('refreshes the sigstore-root at start, shows it in /metrics, and stops on close', async () => {
    const repo = new TufRepo();
    const trustedRoot = await makeTrustedRoot('runtime');
    repo.publish(trustedRoot);
    const server = await serveRepo(repo);
    after(() => server.close());
    writeFileSync(join(dir, 'root.json'), repo.initialRoot);
    const harness = await appFor(
      singleUpstream(
        'http://127.0.0.1:9',
        `trust:
  sigstoreTuf:
    root: sigstore-public
    mirror: ${server.url}
    initialRoot: ${join(dir, 'root.json')}
    cacheDir: ${join(dir, 'cache')}
    scopes: ["127.0.0.1:9/allowed/**"]
`,
      ),
    );
    try {
      for (let i = 0; i < 200 && harness.runtime.trust.snapshot().version === 0; i += 1) await sleep(10);
      const snapshot = harness.runtime.trust.snapshot();
      assert.equal(snapshot.version, 1);
      assert.deepEqual(JSON.parse(JSON.stringify(snapshot.entries)), [
        {
          id: 'sigstore-public',
          kind: 'sigstore-root',
          pem: '',
          trustedRoot,
          scopes: ['127.0.0.1:9/allowed/**'],
          purposes: ['sign'],
          origin: 'api',
        },
      ]);
      const text = (await request(harness.app).get('/metrics')).text;
      assert.match(text, /^trustgate_sigstore_root_refresh_total\{result="ok"\} 1$/m);
      assert.match(text, /^trustgate_sigstore_root_refresh_total\{result="failed"\} 0$/m);
      assert.match(text, /^trustgate_sigstore_root_refresh_total\{result="unchanged"\} 0$/m);
      assert.match(text, /^trustgate_sigstore_root_age_seconds\{root="sigstore-public"\} \d+(\.\d+)?(e-\d+)?$/m);
      assert.match(text, /^trustgate_sigstore_root_refresh_interval_seconds\{root="sigstore-public"\} 21600$/m);
    } finally {
      await harness.close();
    }
    const asked = server.requests.length;
    await sleep(50);
    assert.equal(server.requests.length, asked, 'nothing is fetched after close');
  });

  it('without trust.sigstoreTuf, no refresh and no sigstore-root series', async () => {
    const harness = await appFor(singleUpstream('http://127.0.0.1:9'));
    try {
      assert.equal(harness.config.trust.sigstoreTuf, undefined);
      const text = (await request(harness.app).get('/metrics')).text;
      assert.doesNotMatch(text, /^trustgate_sigstore_root_\w+\{/m);
      assert.equal(harness.runtime.trust.snapshot().version, 0);
    } finally {
      await harness.close();
    }
  });
});
