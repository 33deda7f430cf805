/** `RequestCookies` and `ResponseCookies`, the cookie jars of `next/server` (subset used by route code). */

export interface Cookie {
  name: string;
  value: string;
}

export interface CookieOptions {
  domain?: string;
  path?: string;
  expires?: Date | number;
  maxAge?: number;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'lax' | 'strict' | 'none' | boolean;
  partitioned?: boolean;
  priority?: 'low' | 'medium' | 'high';
}

function parseCookieHeader(header: string | null): Map<string, string> {
  const jar = new Map<string, string>();
  for (const pair of (header ?? '').split(/;\s*/)) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
    const raw = eq === -1 ? 'true' : pair.slice(eq + 1);
    if (!name || jar.has(name)) continue;
    try {
      jar.set(name, decodeURIComponent(raw));
    } catch {
      jar.set(name, raw);
    }
  }
  return jar;
}

export class RequestCookies {
  readonly #jar: Map<string, string>;

  constructor(headers: Headers) {
    this.#jar = parseCookieHeader(headers.get('cookie'));
  }

  get size(): number {
    return this.#jar.size;
  }

  get(name: string | Cookie): Cookie | undefined {
    const key = typeof name === 'string' ? name : name.name;
    const value = this.#jar.get(key);
    return value === undefined ? undefined : { name: key, value };
  }

  getAll(name?: string | Cookie): Cookie[] {
    const all = [...this.#jar].map(([n, value]) => ({ name: n, value }));
    if (name === undefined) return all;
    const key = typeof name === 'string' ? name : name.name;
    return all.filter((c) => c.name === key);
  }

  has(name: string): boolean {
    return this.#jar.has(name);
  }

  set(name: string | Cookie, value?: string): this {
    if (typeof name === 'string') this.#jar.set(name, value ?? '');
    else this.#jar.set(name.name, name.value);
    return this;
  }

  delete(names: string | string[]): boolean | boolean[] {
    return Array.isArray(names) ? names.map((n) => this.#jar.delete(n)) : this.#jar.delete(names);
  }

  clear(): this {
    this.#jar.clear();
    return this;
  }

  [Symbol.iterator](): IterableIterator<[string, Cookie]> {
    return [...this.#jar].map(([name, value]): [string, Cookie] => [name, { name, value }])[Symbol.iterator]();
  }

  toString(): string {
    return [...this.#jar].map(([n, v]) => `${n}=${encodeURIComponent(v)}`).join('; ');
  }
}

/**
 * The cookies `cookies()` gives under `dynamic = 'force-static'`: none, and read-only, as Next.js
 * seals them (setting one there fails the build, in Next.js's words, unless the handler catches it).
 */
export class SealedRequestCookies extends RequestCookies {
  constructor() {
    super(new Headers());
  }
  override set(): this {
    throw new Error(READONLY_COOKIES);
  }
  override delete(): boolean {
    throw new Error(READONLY_COOKIES);
  }
  override clear(): this {
    throw new Error(READONLY_COOKIES);
  }
}

const READONLY_COOKIES = 'Cookies can only be modified in a Server Action or Route Handler. Read more: https://nextjs.org/docs/app/api-reference/functions/cookies#options';

/** Cookies set on a response become `set-cookie` headers, as with `NextResponse#cookies`. */
export class ResponseCookies {
  readonly #headers: Headers;
  readonly #jar = new Map<string, Cookie & CookieOptions>();

  constructor(headers: Headers) {
    this.#headers = headers;
  }

  get(name: string | Cookie): (Cookie & CookieOptions) | undefined {
    return this.#jar.get(typeof name === 'string' ? name : name.name);
  }

  getAll(name?: string): Array<Cookie & CookieOptions> {
    const all = [...this.#jar.values()];
    return name === undefined ? all : all.filter((c) => c.name === name);
  }

  has(name: string): boolean {
    return this.#jar.has(name);
  }

  set(...args: [string, string, CookieOptions?] | [Cookie & CookieOptions]): this {
    const given = typeof args[0] === 'string' ? { ...(args[2] ?? {}), name: args[0], value: args[1] as string } : args[0];
    // Next.js defaults the path to `/` and turns `maxAge` into an `Expires` too.
    const cookie = { ...given, path: given.path ?? '/' };
    if (cookie.maxAge) cookie.expires = new Date(Date.now() + cookie.maxAge * 1000);
    this.#jar.set(cookie.name, cookie);
    this.#write();
    return this;
  }

  delete(name: string | (CookieOptions & { name: string })): this {
    const options = typeof name === 'string' ? { name } : name;
    return this.set({ ...options, value: '', expires: new Date(0) });
  }

  #write(): void {
    this.#headers.delete('set-cookie');
    for (const cookie of this.#jar.values()) this.#headers.append('set-cookie', serializeCookie(cookie));
  }

  toString(): string {
    return [...this.#jar.values()].map(serializeCookie).join('; ');
  }
}

export function serializeCookie(cookie: Cookie & CookieOptions): string {
  const parts = [`${cookie.name}=${encodeURIComponent(cookie.value ?? '')}`];
  if (cookie.path !== undefined) parts.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.domain !== undefined) parts.push(`Domain=${cookie.domain}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite !== undefined && cookie.sameSite !== false) {
    parts.push(`SameSite=${cookie.sameSite === true ? 'Strict' : cookie.sameSite[0].toUpperCase() + cookie.sameSite.slice(1)}`);
  }
  if (cookie.partitioned) parts.push('Partitioned');
  if (cookie.priority) parts.push(`Priority=${cookie.priority[0].toUpperCase() + cookie.priority.slice(1)}`);
  return parts.join('; ');
}
