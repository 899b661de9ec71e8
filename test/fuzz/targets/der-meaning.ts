// What a DER certificate or RFC 3161 token means, for the keyless oracle: the bytes a signature
// covers, read with a DER walker of its own (no src/, no kit, no sigstore-js), so that a mutated
// structure can be told apart from one that only changed bytes nobody signs. Lengths must be
// definite and minimal and every container must tile its content exactly; the tag numbers of the
// unsigned wrappers (the outer SEQUENCEs and SETs, the signature's BIT or OCTET STRING, the [0]
// around eContent) are not part of the meaning: sigstore-js does not read them, and no signature
// covers them. A structure this walker cannot read has no meaning: a verifier that accepts it anyway
// is suspect.

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** One TLV at `at`: low-tag-number form, definite and minimal length (X.690 §8.1, §10.1). */
function readTlv(der: Buffer, at: number, limit: number): Tlv | undefined {
  if (at + 2 > limit) return undefined;
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) return undefined;
  const first = der[at + 1]!;
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = at + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > 4 || at + 2 + count > limit) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[at + 2 + i]!;
    // Minimal: no leading zero byte, and the long form only for lengths of 128 or more.
    if (der[at + 2]! === 0 || length < 0x80) return undefined;
    contentStart = at + 2 + count;
  }
  const end = contentStart + length;
  return end > limit ? undefined : { tag, start: at, contentStart, end };
}

/** The TLVs that exactly tile a constructed TLV's content (any tag number, but the constructed bit set). */
function children(der: Buffer, parent: Tlv): Tlv[] | undefined {
  if ((parent.tag & 0x20) === 0) return undefined;
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end;) {
    const child = readTlv(der, at, parent.end);
    if (child === undefined) return undefined;
    out.push(child);
    at = child.end;
  }
  return out;
}

function whole(der: Buffer): Tlv | undefined {
  const top = readTlv(der, 0, der.length);
  return top !== undefined && top.end === der.length ? top : undefined;
}

const primitive = (t: Tlv): boolean => (t.tag & 0x20) === 0;

const hex = (der: Buffer, t: Tlv, from = t.start): string => der.subarray(from, t.end).toString('hex');

/**
 * RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }.
 * The meaning is the TBS (as signed, its own tag included), the algorithm's content and the signature
 * bits; the wrappers' tags and the BIT STRING's count of unused bits sign nothing.
 */
export function certificateMeaning(der: Buffer): string | undefined {
  const top = whole(der);
  if (top === undefined) return undefined;
  const parts = children(der, top);
  if (parts === undefined || parts.length !== 3) return undefined;
  const [tbs, alg, sig] = parts as [Tlv, Tlv, Tlv];
  if (tbs.tag !== 0x30 || !primitive(sig) || sig.end - sig.contentStart < 2) return undefined;
  if (children(der, tbs) === undefined || children(der, alg) === undefined) return undefined;
  return `${hex(der, tbs)}|${hex(der, alg, alg.contentStart)}|${hex(der, sig, sig.contentStart + 1)}`;
}

/**
 * RFC 3161 §2.4.2 TimeStampResp { status, timeStampToken ContentInfo(SignedData) } (RFC 5652 §5).
 * The meaning is what the TSA signed: the TSTInfo (eContent, bound by the messageDigest attribute),
 * the signed attributes and the signature value. Versions, algorithm lists, the certificates set,
 * the signer identifier and the status are outside every signature.
 */
export function timestampMeaning(der: Buffer): string | undefined {
  const top = whole(der);
  if (top === undefined) return undefined;
  const response = children(der, top);
  if (response === undefined || response.length !== 2) return undefined;
  const contentInfo = children(der, response[1]!);
  if (contentInfo === undefined || contentInfo.length !== 2 || contentInfo[0]!.tag !== 0x06) return undefined;
  const wrapped = children(der, contentInfo[1]!);
  if (wrapped === undefined || wrapped.length !== 1) return undefined;
  const signedData = children(der, wrapped[0]!);
  if (signedData === undefined || signedData.length < 4) return undefined;
  const encap = signedData[2]!;
  const signerInfos = signedData[signedData.length - 1]!;
  const encapParts = children(der, encap);
  if (encapParts === undefined || encapParts.length !== 2) return undefined;
  const eContent = children(der, encapParts[1]!);
  if (eContent === undefined || eContent.length !== 1 || eContent[0]!.tag !== 0x04) return undefined;
  const signers = children(der, signerInfos);
  if (signers === undefined || signers.length !== 1) return undefined;
  const signer = children(der, signers[0]!);
  if (signer === undefined || signer.length < 6) return undefined;
  const signedAttrs = signer[3]!;
  const signature = signer[5]!;
  if (signedAttrs.tag !== 0xa0 || !primitive(signature)) return undefined;
  return `${hex(der, eContent[0]!, eContent[0]!.contentStart)}|${hex(der, signedAttrs, signedAttrs.contentStart)}|${hex(der, signature, signature.contentStart)}`;
}
