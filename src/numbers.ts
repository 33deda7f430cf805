/**
 * A count for a person, with thousands separated by commas: `10,000`. (`toLocaleString` gives the
 * same text, but its first call loads locale data, a cost every build would pay.)
 */
export function formatCount(n: number): string {
  return Number.isInteger(n) ? String(n).replace(/\B(?=(\d{3})+$)/g, ',') : n.toLocaleString('en-US');
}
