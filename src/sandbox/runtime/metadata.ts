/**
 * The text of metadata routes (sitemap.xml, robots.txt, manifest.webmanifest), byte for byte as
 * Next.js writes it from what the user's `sitemap.ts`, `robots.ts` or `manifest.ts` returns; and
 * the params given to image functions (see `metadataModule`).
 */
export { syncAndAsync } from './thenable.js';

type OneOrMany<T> = T | T[];
const list = <T>(value: OneOrMany<T> | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

interface RobotsRule {
  userAgent?: OneOrMany<string>;
  allow?: OneOrMany<string>;
  disallow?: OneOrMany<string>;
  crawlDelay?: number;
  [directive: string]: unknown;
}

export interface Robots {
  rules: OneOrMany<RobotsRule>;
  sitemap?: OneOrMany<string>;
  host?: string;
}

const STANDARD_RULE_KEYS = new Set(['userAgent', 'allow', 'disallow', 'crawlDelay']);

export function robotsTxt(robots: Robots): string {
  const lines: string[] = [];
  for (const rule of list(robots.rules)) {
    for (const agent of list(rule.userAgent || '*')) lines.push(`User-Agent: ${agent}`);
    for (const path of rule.allow ? list(rule.allow) : []) lines.push(`Allow: ${path}`);
    for (const path of rule.disallow ? list(rule.disallow) : []) lines.push(`Disallow: ${path}`);
    if (rule.crawlDelay) lines.push(`Crawl-delay: ${rule.crawlDelay}`);
    // Other directives (Request-rate, Visit-time, …) as given.
    for (const [directive, value] of Object.entries(rule)) {
      if (STANDARD_RULE_KEYS.has(directive) || value === null || value === undefined) continue;
      for (const item of list(value as OneOrMany<unknown>)) lines.push(`${directive}: ${item}`);
    }
    lines.push('');
  }
  if (robots.host) lines.push(`Host: ${robots.host}`);
  for (const sitemap of robots.sitemap ? list(robots.sitemap) : []) lines.push(`Sitemap: ${sitemap}`);
  return lines.map((line) => `${line}\n`).join('');
}

interface SitemapVideo {
  title: string;
  thumbnail_loc: string;
  description: string;
  content_loc?: string;
  player_loc?: string;
  duration?: number;
  view_count?: number;
  tag?: string;
  rating?: number;
  expiration_date?: string;
  publication_date?: string;
  family_friendly?: string;
  requires_subscription?: string;
  live?: string;
  restriction?: { relationship: string; content: string };
  platform?: { relationship: string; content: string };
  uploader?: { info?: string; content: string };
}

export interface SitemapEntry {
  url: string;
  lastModified?: string | Date;
  changeFrequency?: string;
  priority?: number;
  alternates?: { languages?: Record<string, string> };
  images?: string[];
  videos?: SitemapVideo[];
}

export function sitemapXml(entries: SitemapEntry[]): string {
  const any = (test: (entry: SitemapEntry) => boolean) => entries.some(test);
  let namespaces = ' xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"';
  if (any((e) => (e.images?.length ?? 0) > 0)) namespaces += ' xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"';
  if (any((e) => (e.videos?.length ?? 0) > 0)) namespaces += ' xmlns:video="http://www.google.com/schemas/sitemap-video/1.1"';
  if (any((e) => Object.keys(e.alternates ?? {}).length > 0)) namespaces += ' xmlns:xhtml="http://www.w3.org/1999/xhtml"';
  const out = ['<?xml version="1.0" encoding="UTF-8"?>\n', `<urlset${namespaces}>\n`];
  for (const entry of entries) {
    out.push('<url>\n', `<loc>${entry.url}</loc>\n`);
    for (const [language, href] of Object.entries(entry.alternates?.languages ?? {})) {
      out.push(`<xhtml:link rel="alternate" hreflang="${language}" href="${href}" />\n`);
    }
    for (const image of entry.images ?? []) out.push(`<image:image>\n<image:loc>${image}</image:loc>\n</image:image>\n`);
    for (const video of entry.videos ?? []) out.push(videoXml(video));
    if (entry.lastModified) out.push(`<lastmod>${entry.lastModified instanceof Date ? entry.lastModified.toISOString() : entry.lastModified}</lastmod>\n`);
    if (entry.changeFrequency) out.push(`<changefreq>${entry.changeFrequency}</changefreq>\n`);
    if (typeof entry.priority === 'number') out.push(`<priority>${entry.priority}</priority>\n`);
    out.push('</url>\n');
  }
  out.push('</urlset>\n');
  return out.join('');
}

/** A video's fields, one per line, the optional ones only when set (as Next.js writes them). */
function videoXml(video: SitemapVideo): string {
  const optional = (name: keyof SitemapVideo) => (video[name] ? `<video:${name}>${String(video[name])}</video:${name}>` : '');
  const related = (name: 'restriction' | 'platform') => (video[name] ? `<video:${name} relationship="${video[name]!.relationship}">${video[name]!.content}</video:${name}>` : '');
  const fields = [
    '<video:video>',
    `<video:title>${video.title}</video:title>`,
    `<video:thumbnail_loc>${video.thumbnail_loc}</video:thumbnail_loc>`,
    `<video:description>${video.description}</video:description>`,
    optional('content_loc'),
    optional('player_loc'),
    optional('duration'),
    optional('view_count'),
    optional('tag'),
    optional('rating'),
    optional('expiration_date'),
    optional('publication_date'),
    optional('family_friendly'),
    optional('requires_subscription'),
    optional('live'),
    related('restriction'),
    related('platform'),
    video.uploader ? `<video:uploader${video.uploader.info ? ` info="${video.uploader.info}"` : ''}>${video.uploader.content}</video:uploader>` : '',
    '</video:video>\n',
  ];
  return fields.filter((field) => field !== '').join('\n');
}

export function manifestJson(manifest: unknown): string {
  return JSON.stringify(manifest);
}

/** Next.js's cache header for generated metadata routes. */
export const METADATA_CACHE_CONTROL = 'public, max-age=0, must-revalidate';
