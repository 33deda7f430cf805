/**
 * The request a GET handler receives: a `NextRequest` whose request-time parts (headers, cookies,
 * URL with its query, body) report each read to the request store. Only the incoming request (and
 * its clones) is watched; a `NextRequest` the route builds itself is an ordinary object.
 */
import { RequestCookies } from './cookies.js';
import { requestData } from './store.js';
import type { ReasonKind } from '../../reasons.js';

const watched = new WeakSet<object>();

function gate<T>(target: object, kind: ReasonKind, real: () => T, empty: () => T = real): T {
  return watched.has(target) ? requestData(kind, real, empty) : real();
}

export class NextURL {
  readonly #url: URL;
  readonly #owner: object;
  readonly #basePath: string;

  constructor(input: string | URL, owner?: object, basePath = '') {
    this.#url = new URL(String(input));
    this.#owner = owner ?? this;
    this.#basePath = basePath;
  }

  // Not request-time data: the same for every visitor of this path (docs/nextjs-rules.md §2).
  /** Without next.config's basePath, as in Next.js. */
  get pathname(): string {
    const { pathname } = this.#url;
    if (!this.#basePath) return pathname;
    if (pathname === this.#basePath) return '/';
    return pathname.startsWith(`${this.#basePath}/`) ? pathname.slice(this.#basePath.length) : pathname;
  }
  get host(): string {
    return this.#url.host;
  }
  get hostname(): string {
    return this.#url.hostname;
  }
  get port(): string {
    return this.#url.port;
  }
  get protocol(): string {
    return this.#url.protocol;
  }
  get hash(): string {
    return this.#url.hash;
  }
  get username(): string {
    return this.#url.username;
  }
  get password(): string {
    return this.#url.password;
  }
  get basePath(): string {
    return this.#basePath;
  }
  get buildId(): string | undefined {
    return undefined;
  }
  get locale(): string {
    return '';
  }
  get defaultLocale(): string | undefined {
    return undefined;
  }

  // Request-time data: the query string differs per request.
  get search(): string {
    return gate(this.#owner, 'nextUrl.search', () => this.#url.search, () => '');
  }
  get searchParams(): URLSearchParams {
    return gate(this.#owner, 'nextUrl.searchParams', () => this.#url.searchParams, () => new URLSearchParams());
  }
  get href(): string {
    return gate(this.#owner, 'nextUrl.href', () => this.#url.href, () => this.#bare());
  }
  get origin(): string {
    return gate(this.#owner, 'nextUrl.origin', () => this.#url.origin);
  }
  toString(): string {
    return gate(this.#owner, 'nextUrl.toString()', () => this.#url.href, () => this.#bare());
  }
  toJSON(): string {
    return gate(this.#owner, 'nextUrl.toJSON()', () => this.#url.href, () => this.#bare());
  }
  clone(): NextURL {
    return new NextURL(this.#url, this.#owner, this.#basePath);
  }

  #bare(): string {
    return this.#url.origin + this.#url.pathname;
  }
}

export class NextRequest extends Request {
  readonly #nextUrl: NextURL;
  #cookies?: RequestCookies;

  constructor(input: string | URL | Request, init?: RequestInit & { nextConfig?: { basePath?: string } }) {
    super(input, init);
    this.#nextUrl = new NextURL(baseGet<string>(this, 'url'), this, init?.nextConfig?.basePath ?? '');
  }

  get nextUrl(): NextURL {
    return this.#nextUrl;
  }
  get cookies(): RequestCookies {
    return gate(this, 'request.cookies', () => (this.#cookies ??= new RequestCookies(baseGet(this, 'headers'))), () => new RequestCookies(new Headers()));
  }
  /** Absent at build time (removed in Next.js 15; undefined in 14 outside a platform). */
  get ip(): string | undefined {
    return undefined;
  }
  get geo(): Record<string, string> | undefined {
    return undefined;
  }
}

function baseGet<T>(request: Request, name: string): T {
  return Reflect.get(Request.prototype, name, request) as T;
}

// The watched parts of `Request`, installed over the inherited ones. The values for
// `dynamic = 'force-static'` are those of an empty request.
const watchedGetters: Record<string, (request: Request) => unknown> = {
  headers: () => new Headers(),
  url: (request) => {
    const url = new URL(baseGet<string>(request, 'url'));
    return url.origin + url.pathname;
  },
  body: () => null,
};
for (const [name, empty] of Object.entries(watchedGetters)) {
  Object.defineProperty(NextRequest.prototype, name, {
    configurable: true,
    get(this: NextRequest) {
      return gate(this, `request.${name}` as ReasonKind, () => baseGet(this, name), () => empty(this));
    },
  });
}
// Reading the reader is the touch, as under Next.js's tracking proxy (`const read = request.json`).
for (const name of ['json', 'text', 'formData', 'arrayBuffer', 'blob'] as const) {
  Object.defineProperty(NextRequest.prototype, name, {
    configurable: true,
    get(this: NextRequest) {
      const reader = () => (Request.prototype[name] as () => Promise<unknown>).bind(this);
      return gate(this, `request.${name}()` as ReasonKind, reader);
    },
  });
}
Object.defineProperty(NextRequest.prototype, 'clone', {
  configurable: true,
  writable: true,
  value(this: NextRequest): NextRequest {
    const copy = new NextRequest(baseGet<string>(this, 'url'), { method: this.method, headers: baseGet<Headers>(this, 'headers'), signal: this.signal, nextConfig: { basePath: this.nextUrl.basePath } });
    if (watched.has(this)) watched.add(copy);
    return copy;
  },
});

/**
 * The request of one prerendered path, the way `next build` makes it. Built on first use: most GET
 * handlers never touch their request, and a `Request` costs tens of microseconds to make.
 */
export function createIncomingRequest(url: string, basePath = ''): NextRequest {
  let request: NextRequest | undefined;
  const real = (): NextRequest => {
    if (!request) {
      request = new NextRequest(url, { method: 'GET', nextConfig: { basePath } });
      watched.add(request);
    }
    return request;
  };
  return new Proxy(Object.create(NextRequest.prototype) as NextRequest, {
    get(_target, property) {
      const target = real();
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set: (_target, property, value) => Reflect.set(real(), property, value),
    has: (_target, property) => Reflect.has(real(), property),
    getPrototypeOf: () => NextRequest.prototype,
  });
}
