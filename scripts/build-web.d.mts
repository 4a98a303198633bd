// Types of scripts/build-web.mjs for TypeScript callers (the server's build-on-demand).
export declare const WEB_SRC: string;
export declare const WEB_OUT: string;
export declare function buildWeb(opts?: { outdir?: string; quiet?: boolean; minify?: boolean }): Promise<unknown>;
export declare function watchWeb(opts?: { outdir?: string }): Promise<void>;
