export { prerender, type PrerenderResult } from './prerender.js';
export type { PrerenderOptions, Logger } from './options.js';
export { buildManifest, serializeManifest, exitCodeFor, countManifest, MANIFEST_VERSION } from './manifest.js';
export type { Manifest, ManifestRoute, ManifestDynamic, ManifestError, ManifestReason } from './manifest.js';
export { formatReport, formatBytes } from './report.js';
export { PrerenderError, isPrerenderError } from './errors.js';
export type { PathResult, StaticResult, DynamicResult, ErrorResult, Reason, RouteFile, SourceLocation } from './types.js';
export { hostFiles, hostLayout, HOSTS, type HostName } from './hosts.js';
