// Scan evidence for tests: Trivy JSON reports (SchemaVersion 2, as `trivy image --format json`
// writes them) and cosign vuln attestations (`.att` tag, DSSE envelope over an in-toto statement,
// cosign ATTESTATION_SPEC.md). Independent of trustgate's own parsers.
import { sign, type KeyObject } from 'node:crypto';
import { putBlob, putManifest } from './registry-api.ts';

export interface Vulnerability {
  readonly id: string;
  readonly severity: 'UNKNOWN' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
  readonly pkg?: string;
  readonly fixedIn?: string;
}

export function trivyReport(options: {
  name: string;
  digest: string;
  createdAt: Date;
  vulnerabilities: readonly Vulnerability[];
  imageId?: string;
}): Buffer {
  return Buffer.from(
    JSON.stringify({
      SchemaVersion: 2,
      CreatedAt: options.createdAt.toISOString(),
      ArtifactName: `${options.name}@${options.digest}`,
      ArtifactType: 'container_image',
      Metadata: {
        ImageID: options.imageId ?? 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
        RepoDigests: [`${options.name}@${options.digest}`],
      },
      Results: [
        {
          Target: 'test (alpine 3.19)',
          Class: 'os-pkgs',
          Type: 'alpine',
          Vulnerabilities: options.vulnerabilities.map((v) => ({
            VulnerabilityID: v.id,
            PkgName: v.pkg ?? 'libcrypto3',
            InstalledVersion: '3.1.0-r0',
            FixedVersion: v.fixedIn ?? '3.1.1-r0',
            Severity: v.severity,
          })),
        },
      ],
    }),
  );
}

const pae = (type: string, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);

/** Pushes a signed vuln attestation for `digest` under the `.att` tag. */
export async function pushVulnAttestation(
  registryUrl: string,
  repository: string,
  digest: string,
  key: KeyObject,
  options: { finishedAt: Date; vulnerabilities: readonly Vulnerability[] },
): Promise<void> {
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1',
      subject: [{ name: repository, digest: { sha256: digest.slice(7) } }],
      predicate: {
        invocation: { parameters: null, uri: '', event_id: '', 'builder.id': '' },
        scanner: {
          uri: 'pkg:github/aquasecurity/trivy@v0.50.0',
          version: '0.50.0',
          db: { uri: '', version: '' },
          result: JSON.parse(
            trivyReport({ name: repository, digest, createdAt: options.finishedAt, vulnerabilities: options.vulnerabilities }).toString(),
          ),
        },
        metadata: {
          scanStartedOn: new Date(options.finishedAt.getTime() - 60_000).toISOString(),
          scanFinishedOn: options.finishedAt.toISOString(),
        },
      },
    }),
  );
  const payloadType = 'application/vnd.in-toto+json';
  const envelope = Buffer.from(
    JSON.stringify({
      payloadType,
      payload: statement.toString('base64'),
      signatures: [{ keyid: '', sig: sign('sha256', pae(payloadType, statement), key).toString('base64') }],
    }),
  );
  const layer = await putBlob(registryUrl, repository, envelope);
  const config = await putBlob(
    registryUrl,
    repository,
    Buffer.from('{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}'),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: [
        {
          mediaType: 'application/vnd.dsse.envelope.v1+json',
          digest: layer.digest,
          size: layer.size,
          annotations: { predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1', 'dev.cosignproject.cosign/signature': '' },
        },
      ],
    }),
  );
  await putManifest(registryUrl, repository, `${digest.replace(':', '-')}.att`, manifest, 'application/vnd.oci.image.manifest.v1+json');
}
