/** Plain data passed between the pipeline stages: discover → bundle → plan → execute → write → report. */
import type { RouteErrorCode } from './errors.js';
import type { ReasonKind } from './reasons.js';

export type Segment =
  | { type: 'static'; value: string }
  | { type: 'dynamic'; name: string }
  | { type: 'catchall'; name: string }
  | { type: 'optional'; name: string };

/** A `route.(ts|tsx|js|jsx)` file and the URL pattern it serves. */
export interface RouteFile {
  /** Absolute path of the route file. */
  file: string;
  /** URL pattern inside the app, e.g. `/posts/[slug]`; `/` for `app/route.ts`. */
  pattern: string;
  /**
   * The pattern as served, under next.config's `basePath` (`/docs/posts/[slug]`): the manifest's
   * `srcRoute`, and the key of every result of a route that never ran. Made by `withBasePath`.
   */
  srcRoute: string;
  segments: Segment[];
  /** Set for metadata files (sitemap.ts, favicon.ico, …), served through a generated route module. */
  metadata?: import('./metadata.js').MetadataFile;
}

/** A place in the user's original source (1-based line and column, absolute file). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** Why a path cannot be prerendered. `kind` is a stable identifier, listed in the README. */
export interface Reason {
  kind: ReasonKind;
  message: string;
  at?: SourceLocation;
}

export type DynamicOption = 'auto' | 'force-dynamic' | 'error' | 'force-static';

/** A route module's segment config, validated. See docs/nextjs-rules.md §3. */
export interface SegmentConfig {
  dynamic: DynamicOption;
  revalidate: number | false;
  dynamicParams: boolean;
  runtime: 'nodejs' | 'edge';
  fetchCache?: string;
}

export type Params = Record<string, string | string[] | undefined>;

export type Headers = Record<string, string | string[]>;

/** Network use that makes a static path a snapshot of build time: a fetch without revalidate, a socket. */
export interface FrozenUse {
  /** `fetch GET https://…` or `socket db.example.com:5432`. */
  what: string;
  at?: string;
}

interface ResultBase {
  /**
   * Manifest key: the concrete URL path (under basePath) when the handler ran for it, else the
   * route's `srcRoute`. Decided once, where the result is made.
   */
  path: string;
  route: RouteFile;
  /** What the route code printed while this path was handled. */
  logs: string[];
}

export interface StaticResult extends ResultBase {
  type: 'static';
  status: number;
  headers: Headers;
  /** Output file relative to the output folder, or null when no file is written (3xx, 404). */
  file: string | null;
  size: number;
  sha256: string;
  revalidate: number | false;
  /** Cache tags of the path's fetches (`next: { tags }`), sorted. */
  tags?: string[];
  /** Network reads that made these bytes a snapshot of build time (no revalidate). */
  frozen?: FrozenUse[];
  /** Taken from the previous build (`--incremental`): the handler did not run. */
  reused?: boolean;
}

export interface DynamicResult extends ResultBase {
  type: 'dynamic';
  reasons: Reason[];
}

export interface ErrorResult extends ResultBase {
  type: 'error';
  /** Stable, from the error catalogue (errors.ts). */
  code: RouteErrorCode;
  message: string;
  /** The source line and a caret under the place (compile errors). */
  frame?: string;
  at?: SourceLocation;
  hint?: string;
}

export type PathResult = StaticResult | DynamicResult | ErrorResult;

/** Something wrong with one route, found before its handler ran. */
export interface RouteProblem {
  code: RouteErrorCode;
  message: string;
  frame?: string;
  hint?: string;
  at?: SourceLocation;
}
