// Fuzz and property tests (issue #7 item 4) of the signature verifiers and the gate: cosign
// simple signing, sigstore bundles (DSSE, message signatures), Notary Project JWS envelopes, keyless
// certificate signatures (cosign annotations and bundles with SET, proof, SCT and RFC 3161 timestamps
// from an offline sigstore), each signed here with real keys and then mutated; and the same mutations
// served by an upstream to the real app, where no mutated signature may get an image served.
import { describe } from 'node:test';
import { cosignTarget } from './targets/cosign.ts';
import { gateTarget } from './targets/gate.ts';
import { keylessTarget } from './targets/keyless.ts';
import { notationTarget } from './targets/notation.ts';
import { fuzzTargets } from './suite.ts';

describe('fuzz: signatures', () => fuzzTargets([cosignTarget, notationTarget, keylessTarget, gateTarget]));
