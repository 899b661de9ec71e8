export * from './reference.ts';
export * from './digest.ts';
export * from './media-types.ts';
export * from './manifest.ts';
export * from './signature-artifact.ts';
