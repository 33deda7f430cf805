/**
 * Every name that `next/server`, `next/headers`, `next/navigation` and `next/cache` export in
 * Next.js 13.4 to 16 (read from the published packages). A route module may import any of them, in
 * any version, and get what webpack gives: the sandbox's instrumented value, else the app's own
 * (from its installed `next`), else `undefined`, never a link error. Pure data.
 */
export const NEXT_EXPORTS: Record<string, readonly string[]> = {
  'next/server': ['ImageResponse', 'NextFetchEvent', 'NextRequest', 'NextResponse', 'URLPattern', 'after', 'connection', 'unstable_after', 'unstable_rootParams', 'userAgent', 'userAgentFromString'],
  'next/headers': ['cookies', 'draftMode', 'headers'],
  'next/navigation': [
    'ReadonlyURLSearchParams', 'RedirectType', 'ServerInsertedHTMLContext', 'forbidden', 'notFound', 'permanentRedirect', 'redirect', 'unauthorized',
    'unstable_isUnrecognizedActionError', 'unstable_rethrow', 'useParams', 'usePathname', 'useRouter', 'useSearchParams', 'useSelectedLayoutSegment',
    'useSelectedLayoutSegments', 'useServerInsertedHTML',
  ],
  'next/cache': [
    'cacheLife', 'cacheTag', 'io', 'navigation', 'prefetch', 'refresh', 'revalidatePath', 'revalidateTag', 'unstable_cache', 'unstable_cacheLife', 'unstable_cacheTag',
    'unstable_expirePath', 'unstable_expireTag', 'unstable_noStore', 'unstable_revalidatePath', 'unstable_revalidateTag', 'updateTag',
  ],
};

/** The global under which each worker registers its instrumented `next/*` modules. */
export const STAND_IN_KEY = 'route-prerender.next';
