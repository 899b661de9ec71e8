// The layer table is written once, in docs/architecture.md ("The layers"), and read from there, so
// the picture a newcomer reads and the rule this suite enforces cannot drift apart.
import { readFileSync } from 'node:fs';

export interface Layer {
  readonly rank: number;
  readonly name: string;
  readonly folders: readonly string[];
  /** Pure core: no I/O, no clock, no network; only the packages in PURE_PACKAGES. */
  readonly pure: boolean;
}

/** Packages the pure core may import: computation only (hashing, signatures, ASN.1, JOSE, YAML, schemas). */
export const PURE_PACKAGES: ReadonlySet<string> = new Set([
  'node:crypto',
  '@noble/curves/ed25519.js',
  '@noble/curves/nist.js',
  '@peculiar/asn1-rsa',
  '@peculiar/asn1-schema',
  '@peculiar/asn1-x509',
  'jose',
  // sigstore's verifiers: X.509, SCTs, Rekor SETs and proofs, RFC 3161; no I/O (docs/keyless.md).
  '@sigstore/bundle',
  '@sigstore/core',
  '@sigstore/protobuf-specs',
  '@sigstore/verify',
  'yaml',
  'zod',
]);

/**
 * Parses the table under "## The layers": rows `| 1 | pure core | `oci/`, `decision/` | … |`. A layer
 * whose name starts with "pure" is the pure core.
 */
export function parseLayerTable(markdown: string): Layer[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('The layers'));
  if (section === undefined) throw new Error('docs/architecture.md has no "## The layers" section');
  const layers: Layer[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !/^\d+$/.test(cells[1] ?? '')) continue;
    const folders = [...(cells[3] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\/$/, ''));
    layers.push({ rank: Number(cells[1]), name: cells[2]!, folders, pure: cells[2]!.startsWith('pure') });
  }
  return layers;
}

export function readLayers(docPath: string): Layer[] {
  return parseLayerTable(readFileSync(docPath, 'utf8'));
}
