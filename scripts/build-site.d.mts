// Types of scripts/build-site.mjs for TypeScript callers (the site test, the site bench).
export declare const SITE_OUT: string;
export declare function buildSite(opts?: { outdir?: string; quiet?: boolean; minify?: boolean }): Promise<{ outdir: string; files: string[]; sizes: Record<string, number>; version: string }>;
