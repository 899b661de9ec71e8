// The integrity oracle (test/integrity/oracle.ts) in CI: FUZZ_RUNS-weighted random graphs through the
// real app, seed FUZZ_SEED; `npm run fuzz -- --only integrity` runs many more.
import { describe } from 'node:test';
import { integrityTarget } from './targets/integrity.ts';
import { fuzzTargets } from './suite.ts';

describe('fuzz: integrity', () => fuzzTargets([integrityTarget]));
