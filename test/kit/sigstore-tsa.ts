// An RFC 3161 timestamp authority for the local sigstore kit: root → intermediate → signing leaf
// (like sigstore's timestamp-authority), issuing TimeStampResp DER at any chosen genTime. The CMS is
// written by hand (RFC 5652 §5, RFC 3161 §2.4.2, RFC 5035 ESSCertIDv2) rather than borrowed from
// @sigstore/mock, whose TSA certificates are dated at the real clock. No src/ imports.
import { createHash, randomBytes, sign } from 'node:crypto';
import { explicit, generalizedTime, int, octets, oid, seq, setOf, tlv, utcTime } from './sigstore-der.ts';
import {
  CA_NOT_AFTER,
  CA_NOT_BEFORE,
  ecKeyPair,
  ecdsaHash,
  ext,
  issueCertificate,
  makeIntermediateCa,
  makeRootCa,
  name,
  OIDS,
} from './sigstore-pki.ts';
import type { Authority, Certificate, Curve, KeyPair } from './sigstore-pki.ts';

const OID = {
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  /** An arbitrary TSA policy under sigstore's arc. */
  policy: '1.3.6.1.4.1.57264.2',
} as const;

export interface Tsa {
  root: Authority;
  intermediate: Authority;
  /** The signing certificate (EKU timeStamping, critical). */
  leaf: Certificate;
  leafKey: KeyPair;
  /** Leaf, intermediate, root: the trusted root's timestampAuthorities[].certChain order. */
  chain: Certificate[];
  timestamp(data: Buffer, genTime: Date, options?: TimestampOptions): Buffer;
}

export interface TimestampOptions {
  /** Put the signing certificate in SignedData.certificates (a TSA does when the request sets certReq). */
  includeCertificate?: boolean;
  /** Message imprint digest (default sha256). */
  hash?: 'sha256' | 'sha384';
}

export interface TsaSpec {
  organization?: string;
  curve?: Curve;
  notBefore?: Date;
  notAfter?: Date;
}

const algorithm = (dotted: string): Buffer => seq(oid(dotted));
const attribute = (type: string, value: Buffer): Buffer => seq(oid(type), setOf(value));

export function makeTsa(spec: TsaSpec = {}): Tsa {
  const organization = spec.organization ?? 'sigstore.local';
  const validity = { notBefore: spec.notBefore ?? CA_NOT_BEFORE, notAfter: spec.notAfter ?? CA_NOT_AFTER };
  const root = makeRootCa({ organization, commonName: 'sigstore-tsa-root', ...validity, pathLen: 1 });
  const intermediate = makeIntermediateCa(root, { organization, commonName: 'sigstore-tsa-intermediate', ...validity });
  const leafKey = ecKeyPair(spec.curve ?? 'P-256');
  const serial = randomBytes(12);
  serial[0] = 0x42;
  const leaf = issueCertificate(intermediate, {
    subject: name({ organization, commonName: 'sigstore-tsa' }),
    publicKey: leafKey.publicKey,
    ...validity,
    serial,
    extensions: [
      ext.keyUsage([0]),
      // RFC 3161 §2.3: the TSA's certificate carries only id-kp-timeStamping, critical.
      { ...ext.extKeyUsage([OIDS.timeStamping]), critical: true },
      ext.subjectKeyId(leafKey.publicKey),
      ext.authorityKeyId(intermediate.key.publicKey),
    ],
  });
  const tsa: Tsa = {
    root,
    intermediate,
    leaf,
    leafKey,
    chain: [leaf, intermediate.cert, root.cert],
    timestamp: (data, genTime, options = {}) => timeStampResp({ intermediate, leaf, leafKey, serial }, data, genTime, options),
  };
  return tsa;
}

interface Signer {
  intermediate: Authority;
  leaf: Certificate;
  leafKey: KeyPair;
  serial: Buffer;
}

/** RFC 3161 §2.4.2 TSTInfo: version, policy, messageImprint, serialNumber, genTime, accuracy, nonce. */
function tstInfo(data: Buffer, genTime: Date, hash: 'sha256' | 'sha384'): Buffer {
  return seq(
    int(1),
    oid(OID.policy),
    seq(algorithm(hash === 'sha384' ? OID.sha384 : OID.sha256), octets(createHash(hash).update(data).digest())),
    int(randomBytes(8)),
    generalizedTime(genTime),
    seq(int(1)),
    int(randomBytes(8)),
  );
}

/** RFC 3161 §2.4.2 TimeStampResp { status granted(0), timeStampToken ContentInfo(SignedData) }. */
function timeStampResp(signer: Signer, data: Buffer, genTime: Date, options: TimestampOptions): Buffer {
  const info = tstInfo(data, genTime, options.hash ?? 'sha256');
  // RFC 5652 §5.4: the signature covers the DER of the signed attributes as a SET OF (tag 0x31).
  const attributes = setOf(
    attribute(OID.contentType, oid(OID.tstInfo)),
    attribute(OID.signingTime, utcTime(genTime)),
    attribute(OID.messageDigest, octets(createHash('sha256').update(info).digest())),
    // RFC 5035 §3 SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { certHash, issuerSerial } }, hashAlgorithm sha256 by DEFAULT.
    attribute(
      OID.signingCertificateV2,
      seq(
        seq(
          seq(
            octets(createHash('sha256').update(signer.leaf.der).digest()),
            seq(seq(explicit(4, signer.intermediate.subject)), int(signer.serial)),
          ),
        ),
      ),
    ),
  );
  const signedAttrs = Buffer.concat([Buffer.from([0xa0]), attributes.subarray(1)]); // [0] IMPLICIT
  const digest = ecdsaHash(signer.leafKey.privateKey);
  const signerInfo = seq(
    int(1),
    seq(signer.intermediate.subject, int(signer.serial)), // IssuerAndSerialNumber
    algorithm(OID.sha256),
    signedAttrs,
    algorithm(digest === 'sha384' ? OIDS.ecdsaWithSha384 : OIDS.ecdsaWithSha256),
    octets(sign(digest, attributes, signer.leafKey.privateKey)),
  );
  const signedData = seq(
    int(3),
    setOf(algorithm(OID.sha256)),
    seq(oid(OID.tstInfo), explicit(0, octets(info))),
    ...(options.includeCertificate ? [tlv(0xa0, signer.leaf.der)] : []),
    setOf(signerInfo),
  );
  return seq(seq(int(0)), seq(oid(OID.signedData), explicit(0, signedData)));
}
