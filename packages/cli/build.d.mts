/** Types of build.mjs (plain JavaScript, so that `npm install` runs it without a TypeScript loader). */
export declare const ROOT: string;
export declare const ENTRIES: readonly { entry: string; outdir: string }[];
export declare function stale(root?: string): boolean;
export declare const HEAP_ARGS: readonly string[];
export declare function serviceArgs(
  name: "ingest" | "worker",
  root?: string,
  env?: Record<string, string | undefined>,
): string[];
export declare function build(): Promise<void>;
