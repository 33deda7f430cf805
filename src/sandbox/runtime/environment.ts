/**
 * The globals `next build` gives server code (next/dist/server/node-environment.js):
 * `AsyncLocalStorage` (React's server build looks for it) and, where Node.js has none, a
 * `WebSocket` from the app's own Next.js.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import path from 'node:path';

export function installNextEnvironment(projectRoot: string): void {
  const scope = globalThis as Record<string, unknown>;
  if (typeof scope.AsyncLocalStorage !== 'function') scope.AsyncLocalStorage = AsyncLocalStorage;
  if (typeof scope.WebSocket !== 'function') {
    const require = createRequire(path.join(projectRoot, 'package.json'));
    Object.defineProperty(globalThis, 'WebSocket', {
      configurable: true,
      get() {
        try {
          return (require('next/dist/compiled/ws') as { WebSocket: unknown }).WebSocket;
        } catch {
          return undefined; // no next in the app: as on Node.js itself
        }
      },
    });
  }
}
