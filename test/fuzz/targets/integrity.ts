// The integrity invariant as a property (docs/integrity.md "How it is tested"): random graphs of
// images, indexes, real and fake signature artifacts, referrers listings and tags, served by an
// in-process upstream and pulled through the real app in random orders, with break glass opened and
// ended, K revoked and smuggling attempts. Every 200 is checked against the answer computed from the
// graph alone (test/integrity/expected.ts); a signed image must still be served (liveness).
import type { FuzzTarget } from '../harness.ts';
import { integrityProperty, openOracle } from '../../integrity/oracle.ts';

export const integrityTarget: FuzzTarget = {
  name: 'integrity',
  async open() {
    const oracle = await openOracle();
    return {
      properties: [
        {
          name: 'every manifest or blob served is named by a manifest that passed the policy, under a verdict still valid',
          // A graph is ~20 requests through the app (~50 ms): 2 × FUZZ_RUNS graphs, 400 by default (~25 s) in CI.
          weight: 2,
          property: integrityProperty(oracle),
        },
      ],
      close: () => oracle.close(),
    };
  },
};
