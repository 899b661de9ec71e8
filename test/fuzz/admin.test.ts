// Fuzz and property tests (issue #7 item 4) of the admin API: hostile and near-valid bodies and
// queries on every route of the real admin app over Redis, never a 500.
import { describe } from 'node:test';
import { adminTarget } from './targets/admin.ts';
import { fuzzTargets } from './suite.ts';

describe('fuzz: admin API', () => fuzzTargets([adminTarget]));
