/**
 * `next/root-params` (Next.js 16): `import { locale } from 'next/root-params'` gives an async
 * function per param of the root layout's segments, which Next.js's compiler writes for each name
 * imported (a name that is not a root param fails `next build`). The build writes the same module
 * for each importer (see `rootParamsModule` in bundle.ts), each function reading the param of the
 * path being rendered; outside a render (module scope, generateStaticParams) it is undefined.
 */
import { requestStore } from './store.js';

export function rootParam(name: string): Promise<string | string[] | undefined> {
  return Promise.resolve(requestStore.getStore()?.params?.[name]);
}
