/**
 * Stands in for `next/og` when the app does not have `next` installed: an image route that needs
 * it stays dynamic, with a reason that says what to install.
 */
import { markDynamic } from './store.js';

export class ImageResponse extends Response {
  constructor(..._args: unknown[]) {
    markDynamic('next/og', 'ImageResponse comes from next/og, which is not installed in this app; install it (npm install next react react-dom) to prerender this image');
    super();
  }
}
