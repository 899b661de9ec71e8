// Private key material, refused in the browser before anything is sent. The rules are the server's
// own (src/input/private-key-text.ts, bundled into the console), without its node:crypto parser for
// whole DER that opens in an unusual way: such a key is left to the server's refusal, which always runs.
import { holdsPrivateKeyText } from '../../src/input/private-key-text.ts';

/** Whether `text` holds private key material (the server's rules, minus its DER parser). */
export const holdsPrivateKey = (text: string): boolean => holdsPrivateKeyText(text);

/** The refusal the console shows, naming the field; nothing was sent. */
export const privateKeyRefusal = (field: string): string =>
  `${field} holds a private key. trustgate takes public keys and certificates only: paste the public half (for example cosign.pub). Nothing was sent.`;
