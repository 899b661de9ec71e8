import { httpScenario } from '../http-scenario.ts';

export const manifestGetByTag = httpScenario({
  name: 'manifest-get-by-tag',
  measures: "GET /v2/<repo>/manifests/<tag> with containerd's Accept header: tag resolution plus manifest body",
  method: 'GET',
  path: (env) => `/v2/${env.image.repository}/manifests/${env.image.tag}`,
  bodyDigest: (env) => env.image.digest,
});
