/** Types of scripts/checkout-cli.mjs, which stays JavaScript because bin/loop-station.mjs loads it before any TypeScript loader. */
export declare const ROOT: string;
export declare const RUNTIME: readonly string[];
export declare const ASSET_DIRS: readonly string[];
export declare function runtimeSources(root?: string): string[];
export declare function sourcesKey(root?: string): string;
export declare function copyAssets(outDir: string, root?: string): void;
export declare function transpile(outDir: string, root?: string): void;
export declare function compileCheckout(root?: string): string;
export declare function compiledCheckout(root?: string): string | undefined;
