/** The sandbox's `next/headers`: every call but `draftMode().isEnabled` is request-time data. */
import { SealedRequestCookies, type RequestCookies } from './cookies.js';
import { currentStore, dynamicUse, requestData } from './store.js';
import { syncAndAsync } from './thenable.js';

export function headers(): Headers & Promise<Headers> {
  currentStore('headers()');
  // Only reached with `dynamic = 'force-static'`, where the request reads as empty (and read-only, as Next.js seals it).
  return requestData('headers()', () => syncAndAsync(sealedHeaders()), () => syncAndAsync(sealedHeaders()));
}

function sealedHeaders(): Headers {
  const readOnly = () => {
    throw new Error('Headers cannot be modified. Read more: https://nextjs.org/docs/app/api-reference/functions/headers');
  };
  return Object.assign(new Headers(), { append: readOnly, delete: readOnly, set: readOnly });
}

export function cookies(): RequestCookies & Promise<RequestCookies> {
  currentStore('cookies()');
  const empty = () => syncAndAsync<RequestCookies>(new SealedRequestCookies());
  return requestData('cookies()', empty, empty);
}

export interface DraftMode {
  readonly isEnabled: boolean;
  enable(): void;
  disable(): void;
}

export function draftMode(): DraftMode & Promise<DraftMode> {
  currentStore('draftMode()');
  // Enabling or disabling it makes the path dynamic under force-static too, as in Next.js.
  return syncAndAsync<DraftMode>({
    isEnabled: false,
    enable: () => dynamicUse('draftMode().enable()'),
    disable: () => dynamicUse('draftMode().disable()'),
  });
}
