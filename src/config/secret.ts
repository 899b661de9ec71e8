import { inspect } from 'node:util';

/** A credential that cannot leak through JSON.stringify, util.inspect or template strings. */
export class Secret {
  readonly #value: string | (() => string);
  /** The value, or a function that gives the current one (fileSecret). */
  constructor(value: string | (() => string)) {
    this.#value = value;
  }
  reveal(): string {
    return typeof this.#value === 'string' ? this.#value : this.#value();
  }
  toJSON(): string {
    return '[secret]';
  }
  toString(): string {
    return '[secret]';
  }
  [inspect.custom](): string {
    return '[secret]';
  }
}
