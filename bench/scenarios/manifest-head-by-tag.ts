import { httpScenario } from '../http-scenario.ts';

export const manifestHeadByTag = httpScenario({
  name: 'manifest-head-by-tag',
  measures: "HEAD /v2/<repo>/manifests/<tag> with containerd's Accept header: how containerd resolves a tag",
  method: 'HEAD',
  path: (env) => `/v2/${env.image.repository}/manifests/${env.image.tag}`,
});
