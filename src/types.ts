/** Plain data passed between the pipeline stages: discover → bundle → plan → execute → write → report. */

export type Segment =
  | { type: 'static'; value: string }
  | { type: 'dynamic'; name: string }
  | { type: 'catchall'; name: string }
  | { type: 'optional'; name: string };

/** A `route.(ts|tsx|js|jsx)` file and the URL pattern it serves. */
export interface RouteFile {
  /** Absolute path of the route file. */
  file: string;
  /** URL pattern, e.g. `/posts/[slug]`; `/` for `app/route.ts`. */
  pattern: string;
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
  kind: string;
  message: string;
  at?: SourceLocation;
}

export type DynamicOption = 'auto' | 'force-dynamic' | 'error' | 'force-static';

/** A route module's segment config, validated. See NEXTJS-SEMANTICS.md §3. */
export interface SegmentConfig {
  dynamic: DynamicOption;
  revalidate: number | false;
  dynamicParams: boolean;
  runtime: 'nodejs' | 'edge';
  fetchCache?: string;
}

export type Params = Record<string, string | string[] | undefined>;

export type Headers = Record<string, string | string[]>;

interface ResultBase {
  /** Manifest key: the concrete URL path when the handler ran for it, else the route pattern. */
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
}

export interface DynamicResult extends ResultBase {
  type: 'dynamic';
  reasons: Reason[];
}

export interface ErrorResult extends ResultBase {
  type: 'error';
  message: string;
  at?: SourceLocation;
  hint?: string;
}

export type PathResult = StaticResult | DynamicResult | ErrorResult;

/** Something wrong with one route, found before its handler ran. */
export interface RouteProblem {
  message: string;
  hint?: string;
  at?: SourceLocation;
}
