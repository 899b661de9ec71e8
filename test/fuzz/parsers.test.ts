// Fuzz and property tests (issue #7 item 4) of the parsers: references, digests, media types,
// routes and manifests; Trivy reports and vuln attestations; config, policy and keys/ files;
// admin inputs and identities; WWW-Authenticate and token realms; pull-side scopes, credentials and tokens.
// FUZZ_RUNS (default 200) cases per property, seed FUZZ_SEED (fixed); `npm run fuzz` runs more.
import { describe } from 'node:test';
import { configTarget } from './targets/config.ts';
import { inputsTarget } from './targets/inputs.ts';
import { ociTarget } from './targets/oci.ts';
import { pullAuthTarget } from './targets/pullauth.ts';
import { scanTarget } from './targets/scan.ts';
import { upstreamTarget } from './targets/upstream.ts';
import { fuzzTargets } from './suite.ts';

describe('fuzz: parsers', () => fuzzTargets([ociTarget, scanTarget, configTarget, inputsTarget, upstreamTarget, pullAuthTarget]));
