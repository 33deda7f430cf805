/** Reading a handler's Response: its body (within a limit) and its headers. Pure but for the stream. */
import type { Headers as HeaderRecord } from '../types.js';

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`The response body is larger than the limit of ${formatLimit(limit)} (--max-body).`);
  }
}

/** Reads the whole body, but stops as soon as it passes `limit` bytes. */
export async function readBody(response: Response, limit: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

export function formatLimit(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(2)} MB` : `${bytes} bytes`;
}

/** A Response, also one made by another realm's or library's `Response` class. */
export function isResponse(value: unknown): value is Response {
  return value instanceof Response || (typeof value === 'object' && value !== null && typeof (value as Response).arrayBuffer === 'function' && typeof (value as Response).status === 'number' && typeof (value as Response).headers?.get === 'function');
}

/** Lower-cased header names; several `set-cookie` headers stay separate, as in Next.js's `.meta`. */
export function headerRecord(headers: Headers): HeaderRecord {
  const record: HeaderRecord = {};
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') record[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) record['set-cookie'] = cookies.length === 1 ? cookies[0] : cookies;
  return record;
}
