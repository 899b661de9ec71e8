import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { noopLogger } from '../../src/log/logger.ts';
import { listen } from '../../src/server/listen.ts';
import { makeTls } from '../kit/index.ts';

const work = mkdtempSync(join(tmpdir(), 'tg-listen-'));
after(() => rmSync(work, { recursive: true, force: true }));

const limits = {
  host: '127.0.0.1',
  port: 0,
  maxHeaderBytes: 2048,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 1_000,
  maxConnections: 100,
  shutdownGraceMs: 1_000,
};

function dirIn(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
}

function servedCertificate(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.end();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

describe('the listener', () => {
  it('serves HTTPS and picks up a renewed certificate without a restart', async () => {
    const first = await makeTls(dirIn('a'));
    const renewed = await makeTls(dirIn('b'));
    const live = dirIn('live');
    copyFileSync(first.certFile, join(live, 'tls.crt'));
    copyFileSync(first.keyFile, join(live, 'tls.key'));
    const listening = await listen(
      (_req, res) => res.end('ok'),
      { ...limits, tls: { certFile: join(live, 'tls.crt'), keyFile: join(live, 'tls.key') } },
      noopLogger,
    );
    try {
      const port = Number(new URL(listening.url).port);
      const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;
      assert.equal(await servedCertificate(port, readFileSync(first.caFile)), fingerprintOf(first.certFile));
      copyFileSync(renewed.keyFile, join(live, 'tls.key'));
      copyFileSync(renewed.certFile, join(live, 'tls.crt'));
      let served = '';
      for (let i = 0; i < 40 && served !== fingerprintOf(renewed.certFile); i += 1) {
        await new Promise((r) => setTimeout(r, 250));
        served = await servedCertificate(port, readFileSync(renewed.caFile)).catch(() => '');
      }
      assert.equal(served, fingerprintOf(renewed.certFile));
    } finally {
      await listening.close();
    }
  });

  it('refuses oversized request headers with 431', async () => {
    const listening = await listen((_req, res) => res.end('ok'), limits, noopLogger);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${listening.url}/v2/`, { headers: { 'x-big': 'a'.repeat(4096) } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 431);
    } finally {
      await listening.close();
    }
  });
});
