import { TrustgateError } from '../errors/errors.ts';

/** A per-image cap on upstream requests made to discover signatures (docs/design.md §2 "Discovery limits"; docs/wire-formats.md "Traps"). */
export class RequestBudget {
  #left: number;
  constructor(readonly limit: number) {
    this.#left = limit;
  }
  spend(): void {
    if (this.#left <= 0)
      throw new TrustgateError('UPSTREAM_BAD_RESPONSE', `signature discovery needed more than ${this.limit} upstream requests`);
    this.#left -= 1;
  }
}
