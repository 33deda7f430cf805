/**
 * Why a path stays dynamic: every reason `kind` the tool reports, with the sentence that follows
 * the API in a reason's message. One table, used by the sandbox to word each touch and by the
 * README (a test checks that every kind is documented). Pure.
 */

export const REASON_KINDS = {
  // Request-time APIs of next/headers, next/server and next/cache.
  'headers()': 'reads the request headers',
  'cookies()': "reads or sets the visitor's cookies",
  'draftMode().enable()': 'turns on draft mode for the visitor',
  'draftMode().disable()': 'turns off draft mode for the visitor',
  'connection()': 'waits for a real request',
  'unstable_noStore()': 'opts the route out of static rendering',
  'revalidatePath()': 'invalidates cached data, which a prerendered file could not do',
  'revalidateTag()': 'invalidates cached data, which a prerendered file could not do',
  // The incoming request.
  'request.headers': 'is request-time data',
  'request.cookies': 'is request-time data',
  'request.url': 'is request-time data',
  'request.body': 'is request-time data',
  'request.json()': 'is request-time data',
  'request.text()': 'is request-time data',
  'request.formData()': 'is request-time data',
  'request.arrayBuffer()': 'is request-time data',
  'request.blob()': 'is request-time data',
  'nextUrl.search': 'reads the URL of the live request (its query string, host or origin)',
  'nextUrl.searchParams': 'reads the URL of the live request (its query string, host or origin)',
  'nextUrl.href': 'reads the URL of the live request (its query string, host or origin)',
  'nextUrl.origin': 'reads the URL of the live request (its query string, host or origin)',
  'nextUrl.toString()': 'reads the URL of the live request (its query string, host or origin)',
  'nextUrl.toJSON()': 'reads the URL of the live request (its query string, host or origin)',
  // Fetches that skip the cache.
  "fetch({ cache: 'no-store' })": 'fetches fresh data on every request',
  "fetch({ cache: 'no-cache' })": 'fetches fresh data on every request',
  'fetch({ next: { revalidate: 0 } })': 'fetches fresh data on every request',
  "fetchCache = 'force-no-store'": "makes the route's fetches skip the cache, so they run on every request",
  "fetchCache = 'only-no-store'": "makes the route's fetches skip the cache, so they run on every request",
  "fetchCache = 'default-no-store'": "makes the route's fetches skip the cache, so they run on every request",
  // The module, before any handler runs.
  POST: 'is exported too, which keeps the whole route on a server (GET included), as in Next.js',
  PUT: 'is exported too, which keeps the whole route on a server (GET included), as in Next.js',
  PATCH: 'is exported too, which keeps the whole route on a server (GET included), as in Next.js',
  DELETE: 'is exported too, which keeps the whole route on a server (GET included), as in Next.js',
  OPTIONS: 'is exported too, which keeps the whole route on a server (GET included), as in Next.js',
  'no GET': 'the route exports no GET handler, so there is nothing to prerender',
  "dynamic = 'force-dynamic'": 'renders the route on every request',
  'revalidate = 0': 'asks for a fresh response on every request',
  "runtime = 'edge'": 'puts the route on the edge runtime, which Next.js does not prerender',
  'no generateStaticParams': 'a dynamic segment without generateStaticParams: its paths are only known at request time',
  'generateStaticParams() = []': 'generateStaticParams returned an empty array, so no path of this route was prerendered (Next.js is silent here)',
  'generateStaticParams() incomplete': 'generateStaticParams left a param out of an entry, so Next.js 15 and later prerender no path of this route',
  // The response.
  'response.status': 'the handler answered with a status >= 400 other than 404, which Next.js does not prerender',
  'next/og': 'an image route needs next/og, which the app does not have installed',
  'failed at build': 'the GET failed when run at build, and Next.js 15 and later do not run it at build (its route does not opt in): it stays on a server',
  // --strict (Cache Components): non-deterministic or uncached work.
  'Math.random()': 'is random, so the response would differ per request',
  'Date.now()': 'reads the clock, so the response would differ per request',
  'new Date()': 'reads the clock, so the response would differ per request',
  'Date()': 'reads the clock, so the response would differ per request',
  'crypto.randomUUID()': 'is random, so the response would differ per request',
  'crypto.getRandomValues()': 'is random, so the response would differ per request',
  'crypto.randomBytes()': 'is random, so the response would differ per request',
  'crypto.randomFillSync()': 'is random, so the response would differ per request',
  'crypto.randomInt()': 'is random, so the response would differ per request',
  'crypto.generatePrimeSync()': 'is random, so the response would differ per request',
  'crypto.generateKeyPairSync()': 'makes a random key, so the response would differ per request',
  'crypto.generateKeySync()': 'makes a random key, so the response would differ per request',
  'fetch() without cache': "is uncached; give it `cache: 'force-cache'` or `next: { revalidate }`, or call it in a 'use cache' function",
  setTimeout: 'makes the response wait on a timer',
} as const;

export type ReasonKind = keyof typeof REASON_KINDS;

/** A sentence that starts with the API, as written (`cookies() reads or sets the visitor's cookies`). */
export function describeReason(kind: ReasonKind): string {
  return `${kind} ${REASON_KINDS[kind]}`;
}

/** Module-level kinds whose sentence stands alone (it does not follow the API's name). */
export function reasonSentence(kind: ReasonKind): string {
  return kind === 'no GET' || kind === 'no generateStaticParams' || kind === 'generateStaticParams() = []' || kind === 'generateStaticParams() incomplete' || kind === 'response.status' || kind === 'next/og' || kind === 'failed at build'
    ? REASON_KINDS[kind]
    : describeReason(kind);
}
