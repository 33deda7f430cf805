/**
 * The sandbox's `next/navigation` (the parts a route handler can use). `redirect()` and
 * `notFound()` throw a signal that the handler runner turns into a 307/308 or 404 response.
 */

export enum RedirectType {
  push = 'push',
  replace = 'replace',
}

export class NavigationSignal extends Error {
  readonly digest: string;
  readonly status: number;
  readonly location?: string;

  constructor(status: number, location?: string, type: RedirectType = RedirectType.replace) {
    super(location === undefined ? (status === 404 ? 'NEXT_NOT_FOUND' : `NEXT_HTTP_ERROR_FALLBACK;${status}`) : 'NEXT_REDIRECT');
    this.status = status;
    this.location = location;
    this.digest = location === undefined ? this.message : `NEXT_REDIRECT;${type};${location};${status};`;
  }
}

export function isNavigationSignal(error: unknown): error is NavigationSignal {
  return error instanceof NavigationSignal;
}

export function redirect(url: string, type?: RedirectType): never {
  throw new NavigationSignal(307, url, type);
}

export function permanentRedirect(url: string, type?: RedirectType): never {
  throw new NavigationSignal(308, url, type);
}

export function notFound(): never {
  throw new NavigationSignal(404);
}

export function forbidden(): never {
  throw new NavigationSignal(403);
}

export function unauthorized(): never {
  throw new NavigationSignal(401);
}

/** Rethrows the signals above, so a broad `catch` does not swallow them. */
export function unstable_rethrow(error: unknown): void {
  if (isNavigationSignal(error)) throw error;
}
export class ReadonlyURLSearchParams extends URLSearchParams {}
