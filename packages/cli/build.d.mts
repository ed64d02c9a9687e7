/** Types of build.mjs (plain JavaScript, so that `npm install` runs it without a TypeScript loader). */
export declare const ROOT: string;
export declare const ENTRIES: readonly { entry: string; outdir: string }[];
export declare function stale(root?: string): boolean;
export declare function serviceArgs(name: "ingest" | "worker", root?: string): string[];
export declare function build(): Promise<void>;
