// test/fixtures/trivy/alpine-310.json.golden: a report a real `trivy image --format json` wrote.
import { readFileSync } from 'node:fs';

const GOLDEN = new URL('../fixtures/trivy/alpine-310.json.golden', import.meta.url);

/**
 * The recorded real Trivy report (alpine 3.10: four MEDIUM findings), as trivy would have written
 * it for `<name>@<digest>` now: Metadata.RepoDigests names it and CreatedAt is the current time.
 * The findings stay as recorded.
 */
export function recordedReport(name: string, digest: string, createdAt = new Date()): Buffer {
  const report = JSON.parse(readFileSync(GOLDEN, 'utf8')) as { CreatedAt: string; Metadata: Record<string, unknown> };
  report.CreatedAt = createdAt.toISOString();
  report.Metadata['RepoDigests'] = [`${name}@${digest}`];
  return Buffer.from(JSON.stringify(report, null, 2));
}
