/** Words for what route code threw or returned, in messages. Pure. */

/** An error as one line: its name (unless plain `Error`) and message, or what else was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
  const shown = typeof error === 'string' || typeof error === 'number' || typeof error === 'boolean' ? ` ${JSON.stringify(cut(String(error)))}` : '';
  return `${describeValue(error)}${shown} was thrown instead of an Error`;
}

/** What a value is, without printing it (it may be huge or hold secrets). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return name && name !== 'Object' ? `an object (${name})` : name === 'Object' ? 'a plain object' : 'an object with no prototype';
  }
  return `a ${typeof value}`;
}

/** A long value cut for a message, saying how much was left out. */
export function cut(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
