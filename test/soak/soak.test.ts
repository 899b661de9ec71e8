// The CI soak (issue #7, item 5): 30 s of mixed pulls through trustgate in front of the real
// registry, every answer checked, RSS and descriptors flat, counters adding up. trustgate runs in
// this process (startProxy), so the samples are this process's: trustgate plus the load loops,
// whose own state is fixed-size (histograms, counters). `npm run soak` is the 10-minute version.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { formatReport } from './soak-format.ts';
import { runSoak, type SoakReport } from './soak-engine.ts';
import { setUpSoak, type SoakFixture } from './soak-fixture.ts';
import { sampleSelfWithGc } from './resources.ts';
import { CI_BOUNDS, CI_CONCURRENCY } from './soak-settings.ts';

let fixture: SoakFixture | undefined;
let proxy: RunningProxy | undefined;
let report: SoakReport;

before(async () => {
  fixture = await setUpSoak({ coldPerSecond: 20, coldReserve: 100 });
  proxy = await startProxy(`listen: { plainHttp: true }\n${fixture.configYaml}`, { policy: fixture.policy, keys: fixture.keys });
  report = await runSoak({
    proxyUrl: proxy.url,
    fixture,
    concurrency: CI_CONCURRENCY,
    durationMs: 30_000,
    warmup: { minMs: 10_000, maxMs: 40_000, settleS: 5 },
    sample: sampleSelfWithGc(3),
    bounds: CI_BOUNDS,
  });
  process.stderr.write(`${formatReport(report)}\n`);
});

after(async () => {
  await proxy?.close();
  await fixture?.close();
});

const check = (name: string): void => {
  const found = report.checks.find((c) => c.name === name);
  assert.ok(found !== undefined, `no check named ${name}`);
  assert.ok(found.ok, `${name}: ${found.detail}`);
};

describe(`soak: ${CI_CONCURRENCY} concurrent mixed pulls for 30 s`, () => {
  it('every answer is exactly the expected one: 200 with the digest, or 403 DENIED with rule and reason', () => {
    check('the measured phase ran to its end');
    check('every answer is the expected one');
    check('every class was exercised (≥ 10 requests each)');
    assert.equal(report.errors, 0);
  });
  it('the decision counters add up to the manifest requests sent', () => {
    check('decision counters add up to the manifest requests sent');
    check('manifest answers counted by status');
    check('denied pulls counted once per client, name and digest per second');
  });
  it('cold pulls are verified once each; cached pulls are not verified again', () => {
    check('each cold image verified exactly once; warm pulls answered from the verdict cache');
  });
  it('RSS and the live heap stay flat', () => {
    check('RSS stays flat');
    check('live heap after GC stays flat');
  });
  it('open file descriptors stay flat', () => check('open file descriptors stay flat'));
});
