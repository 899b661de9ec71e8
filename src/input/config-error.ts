/** A bad configuration: names the file, the field and the problem, and stops the process at start. */
export class ConfigError extends Error {
  readonly field: string;
  constructor(source: string, field: string, problem: string) {
    super(`${source}: ${field === '' ? '' : `${field}: `}${problem}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}
