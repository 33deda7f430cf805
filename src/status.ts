/** Which responses are stored, and which get a file (docs/nextjs-rules.md §2). Pure. */

/** 2xx and 3xx, and 404, are stored as they are; any other status keeps the path dynamic. */
export function isStoredStatus(status: number): boolean {
  return (status >= 200 && status < 400) || status === 404;
}

/** Only a 2xx response has a body worth a file; a 3xx or 404 is recorded in the manifest alone. */
export function hasFile(status: number): boolean {
  return status >= 200 && status < 300;
}
