// Tiny bcrypt ($2y$) for htpasswd files: distribution's htpasswd auth only
// accepts bcrypt, and no htpasswd tool or bcrypt package is available. The
// Blowfish initial state is the hex expansion of pi, computed here with
// BigInt (Machin's formula) instead of embedding 4 KiB of constants.
import { randomBytes } from 'node:crypto';

const WORDS = 18 + 4 * 256;
let piWords: Uint32Array | undefined;

function arctanInv(x: bigint, scale: bigint): bigint {
  const x2 = x * x;
  let term = scale / x;
  let sum = term;
  for (let k = 1n; term !== 0n; k++) {
    term /= x2;
    sum += (k % 2n === 1n ? -term : term) / (2n * k + 1n);
  }
  return sum;
}

/** The first 1042 32-bit words of pi's fractional hex digits. */
function blowfishInit(): Uint32Array {
  if (piWords) return piWords;
  const digits = WORDS * 8;
  const guard = 16;
  const scale = 1n << BigInt(4 * (digits + guard));
  const pi = 16n * arctanInv(5n, scale) - 4n * arctanInv(239n, scale);
  const hex = ((pi - 3n * scale) >> BigInt(4 * guard)).toString(16).padStart(digits, '0');
  piWords = new Uint32Array(WORDS);
  for (let i = 0; i < WORDS; i++) piWords[i] = parseInt(hex.slice(i * 8, i * 8 + 8), 16);
  return piWords;
}

class Blowfish {
  readonly s = new Uint32Array(blowfishInit()); // P = s[0..17], S-boxes after
  private readonly lr = new Uint32Array(2);

  private f(x: number): number {
    const s = this.s;
    const a = s[18 + (x >>> 24)]!;
    const b = s[18 + 256 + ((x >>> 16) & 255)]!;
    const c = s[18 + 512 + ((x >>> 8) & 255)]!;
    const d = s[18 + 768 + (x & 255)]!;
    return ((((a + b) >>> 0) ^ c) + d) >>> 0;
  }

  /** Encrypts the block in this.lr in place. */
  encipher(): void {
    const p = this.s;
    let l = this.lr[0]! ^ p[0]!;
    let r = this.lr[1]!;
    for (let n = 1; n <= 16; n += 2) {
      r ^= this.f(l >>> 0) ^ p[n]!;
      l ^= this.f(r >>> 0) ^ p[n + 1]!;
    }
    this.lr[0] = r ^ p[17]!;
    this.lr[1] = l;
  }

  /** Blowfish_expandstate (salt given) or Blowfish_expand0state (salt null). */
  expand(key: Uint8Array, salt: Uint8Array | null): void {
    const pos = { key: 0, salt: 0 };
    const word = (data: Uint8Array, which: 'key' | 'salt'): number => {
      let w = 0;
      for (let i = 0; i < 4; i++) {
        w = ((w << 8) | data[pos[which]]!) >>> 0;
        pos[which] = (pos[which] + 1) % data.length;
      }
      return w;
    };
    for (let i = 0; i < 18; i++) this.s[i] = (this.s[i]! ^ word(key, 'key')) >>> 0;
    this.lr[0] = 0;
    this.lr[1] = 0;
    for (let i = 0; i < WORDS; i += 2) {
      if (salt) {
        this.lr[0] = this.lr[0]! ^ word(salt, 'salt');
        this.lr[1] = this.lr[1]! ^ word(salt, 'salt');
      }
      this.encipher();
      this.s[i] = this.lr[0]!;
      this.s[i + 1] = this.lr[1]!;
    }
  }

  encryptWords(words: Uint32Array): void {
    for (let i = 0; i < words.length; i += 2) {
      this.lr[0] = words[i]!;
      this.lr[1] = words[i + 1]!;
      this.encipher();
      words[i] = this.lr[0]!;
      words[i + 1] = this.lr[1]!;
    }
  }
}

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BCRYPT = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const toBcrypt64 = (b: Uint8Array): string =>
  [...Buffer.from(b).toString('base64').replace(/=+$/, '')].map((c) => BCRYPT[STD.indexOf(c)]).join('');
const fromBcrypt64 = (s: string): Buffer => Buffer.from([...s].map((c) => STD[BCRYPT.indexOf(c)]).join(''), 'base64');

/** bcrypt hash in modular crypt format, e.g. `$2y$05$<22 salt><31 hash>`. */
export function bcryptHash(password: string, options: { cost?: number; salt?: string } = {}): string {
  const cost = options.cost ?? 5;
  if (cost < 4 || cost > 31) throw new Error('bcrypt: cost must be 4..31');
  const saltText = options.salt ?? toBcrypt64(randomBytes(16));
  const salt = fromBcrypt64(saltText).subarray(0, 16);
  const key = Buffer.concat([Buffer.from(password, 'utf8'), Buffer.from([0])]).subarray(0, 72);
  const bf = new Blowfish();
  bf.expand(key, salt);
  for (let i = 0; i < 2 ** cost; i++) {
    bf.expand(key, null);
    bf.expand(salt, null);
  }
  const magic = Buffer.from('OrpheanBeholderScryDoubt', 'latin1');
  const words = new Uint32Array(6);
  for (let i = 0; i < 6; i++) words[i] = magic.readUInt32BE(i * 4);
  for (let i = 0; i < 64; i++) bf.encryptWords(words);
  const out = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) out.writeUInt32BE(words[i]!, i * 4);
  return `$2y$${String(cost).padStart(2, '0')}$${saltText}${toBcrypt64(out.subarray(0, 23))}`;
}
