// Every fuzz target, in one list: the CI tests run each with FUZZ_RUNS cases per property, and
// scripts/fuzz-long.ts with 100,000 or more.
import type { FuzzTarget } from './harness.ts';
import { adminTarget } from './targets/admin.ts';
import { configTarget } from './targets/config.ts';
import { cosignTarget } from './targets/cosign.ts';
import { gateTarget } from './targets/gate.ts';
import { inputsTarget } from './targets/inputs.ts';
import { integrityTarget } from './targets/integrity.ts';
import { keylessTarget } from './targets/keyless.ts';
import { notationTarget } from './targets/notation.ts';
import { ociTarget } from './targets/oci.ts';
import { pullAuthTarget } from './targets/pullauth.ts';
import { scanTarget } from './targets/scan.ts';
import { upstreamTarget } from './targets/upstream.ts';

export const TARGETS: readonly FuzzTarget[] = [
  ociTarget,
  cosignTarget,
  notationTarget,
  keylessTarget,
  scanTarget,
  configTarget,
  inputsTarget,
  upstreamTarget,
  pullAuthTarget,
  adminTarget,
  gateTarget,
  integrityTarget,
];
