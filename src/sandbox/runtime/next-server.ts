/** The sandbox's `next/server`. */
import { ResponseCookies } from './cookies.js';
import { currentStore, requestData } from './store.js';

export { NextRequest, NextURL } from './request.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export class NextResponse<_Body = unknown> extends Response {
  #cookies?: ResponseCookies;

  get cookies(): ResponseCookies {
    return (this.#cookies ??= new ResponseCookies(this.headers));
  }

  static override json<JsonBody>(body: JsonBody, init?: ResponseInit): NextResponse<JsonBody> {
    const response = Response.json(body, init);
    return new NextResponse(response.body, response);
  }

  static override redirect(url: string | URL, init?: number | ResponseInit): NextResponse {
    const status = typeof init === 'number' ? init : (init?.status ?? 307);
    if (!REDIRECT_STATUSES.has(status)) {
      throw new RangeError('Failed to execute "redirect" on "response": Invalid status code');
    }
    const headers = new Headers(typeof init === 'object' ? init.headers : undefined);
    headers.set('Location', absoluteUrl(url));
    return new NextResponse(null, { ...(typeof init === 'object' ? init : {}), headers, status });
  }

  static rewrite(): never {
    throw new Error('NextResponse.rewrite() was used in a app route handler, this is not currently supported. Please remove the invocation to continue.');
  }

  static next(): never {
    throw new Error('NextResponse.next() was used in a app route handler, this is not supported. See here for more info: https://nextjs.org/docs/messages/next-response-next-in-app-route-handler');
  }
}

function absoluteUrl(url: string | URL): string {
  try {
    return String(new URL(String(url)));
  } catch (error) {
    throw new Error(`URL is malformed "${String(url)}". Please use only absolute URLs - https://nextjs.org/docs/messages/middleware-relative-urls`, { cause: error });
  }
}

/** Waits for a real request: never true at build time (Next.js 15+). */
export function connection(): Promise<void> {
  return requestData('connection()', () => Promise.resolve(), () => Promise.resolve());
}

/** Runs `task` once the response is complete, before the build moves on. */
export function after(task: Promise<unknown> | (() => unknown)): void {
  const store = currentStore('after()');
  store.after.push(typeof task === 'function' ? task : () => task);
}
export { after as unstable_after };

export interface UserAgent {
  isBot: boolean;
  ua: string;
  browser: Record<string, string | undefined>;
  device: Record<string, string | undefined>;
  engine: Record<string, string | undefined>;
  os: Record<string, string | undefined>;
  cpu: Record<string, string | undefined>;
}

export function userAgentFromString(input: string | undefined): UserAgent {
  const ua = input ?? '';
  return {
    isBot: /bot|crawler|spider|crawling/i.test(ua),
    ua,
    browser: {},
    device: {},
    engine: {},
    os: {},
    cpu: {},
  };
}

/** Reads `request.headers`, so calling it with the incoming request makes the path dynamic. */
export function userAgent({ headers }: { headers: Headers }): UserAgent {
  return userAgentFromString(headers.get('user-agent') ?? undefined);
}
