/** The sandbox's `next/headers`: every call but `draftMode().isEnabled` is request-time data. */
import { RequestCookies } from './cookies.js';
import { currentStore, requestData } from './store.js';
import { syncAndAsync } from './thenable.js';

export function headers(): Headers & Promise<Headers> {
  currentStore('headers()');
  // Only reached with `dynamic = 'force-static'`, where the request reads as empty.
  return requestData('headers()', () => syncAndAsync(new Headers()), () => syncAndAsync(new Headers()));
}

export function cookies(): RequestCookies & Promise<RequestCookies> {
  currentStore('cookies()');
  const empty = () => syncAndAsync(new RequestCookies(new Headers()));
  return requestData('cookies()', empty, empty);
}

export interface DraftMode {
  readonly isEnabled: boolean;
  enable(): void;
  disable(): void;
}

export function draftMode(): DraftMode & Promise<DraftMode> {
  currentStore('draftMode()');
  const noop = () => undefined;
  return syncAndAsync<DraftMode>({
    isEnabled: false,
    enable: () => requestData('draftMode().enable()', noop, noop),
    disable: () => requestData('draftMode().disable()', noop, noop),
  });
}
