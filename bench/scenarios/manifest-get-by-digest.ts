import { httpScenario } from '../http-scenario.ts';

export const manifestGetByDigest = httpScenario({
  name: 'manifest-get-by-digest',
  measures: "GET /v2/<repo>/manifests/<digest> with containerd's Accept header: the pull after a tag was resolved",
  method: 'GET',
  path: (env) => `/v2/${env.image.repository}/manifests/${env.image.digest}`,
  bodyDigest: (env) => env.image.digest,
});
