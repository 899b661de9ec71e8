// A paced stream of images trustgate has never seen, each signed with the trusted key: the soak's
// cold pulls. Each is the template manifest plus a numbered annotation (image-spec manifest.md
// `annotations`), so every digest is new while the layer and config are pushed once.
import type { KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { cosignSignImage, putManifest, sha256 } from '../kit/index.ts';

export interface ColdTemplate {
  readonly repository: string;
  readonly manifest: Record<string, unknown>;
  readonly mediaType: string;
}

export interface ColdImage {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** Even images are pulled by tag, odd ones by digest. */
  readonly byTag: boolean;
}

export interface ColdStreamOptions {
  readonly registryUrl: string;
  readonly registryHost: string;
  readonly privateKey: KeyObject;
  readonly template: ColdTemplate;
  readonly perSecond: number;
}

/** Pushes in parallel lanes, so a slow registry answer does not stall the stream. */
const LANES = 4;

export class ColdStream {
  readonly #o: ColdStreamOptions;
  readonly #ready: ColdImage[] = [];
  #sequence = 0;
  #taken = 0;
  #running = false;
  #lanes: Promise<void>[] = [];
  /** Push failures (the registry's, not trustgate's); the soak reports them as errors. */
  readonly failures: string[] = [];

  constructor(options: ColdStreamOptions) {
    this.#o = options;
  }

  get pushed(): number {
    return this.#sequence - this.failures.length;
  }

  get taken(): number {
    return this.#taken;
  }

  /** The next image never pulled, or undefined when the stream is behind. */
  take(): ColdImage | undefined {
    const image = this.#ready.shift();
    if (image !== undefined) this.#taken++;
    return image;
  }

  /** Pushes `count` images now (before the load starts). */
  async fill(count: number): Promise<void> {
    const lane = async (): Promise<void> => {
      while (this.#sequence < count) await this.#pushOne();
    };
    await Promise.all(Array.from({ length: LANES }, lane));
  }

  /** Starts pushing `perSecond` images a second until stop(); at most 10 s of images wait unpulled. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const intervalMs = (1000 * LANES) / this.#o.perSecond;
    const lane = async (offset: number): Promise<void> => {
      let due = performance.now() + offset;
      while (this.#running) {
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        due = Math.max(due + intervalMs, performance.now() - intervalMs); // catch up, but never in a burst
        if (this.#running && this.#ready.length < this.#o.perSecond * 10) await this.#pushOne();
      }
    };
    this.#lanes = Array.from({ length: LANES }, (_, i) => lane((i * intervalMs) / LANES));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#lanes);
  }

  async #pushOne(): Promise<void> {
    const n = this.#sequence++;
    const { registryUrl, registryHost, privateKey, template } = this.#o;
    const bytes = Buffer.from(JSON.stringify({ ...template.manifest, annotations: { 'org.trustgate.soak.sequence': String(n) } }));
    const tag = `cold-${n}`;
    try {
      await putManifest(registryUrl, template.repository, tag, bytes, template.mediaType);
      const digest = sha256(bytes);
      await cosignSignImage(registryUrl, template.repository, digest, `${registryHost}/${template.repository}`, privateKey);
      this.#ready.push({
        repository: template.repository,
        tag,
        digest,
        size: bytes.length,
        mediaType: template.mediaType,
        byTag: n % 2 === 0,
      });
    } catch (error) {
      this.failures.push(`push of ${template.repository}:${tag}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
