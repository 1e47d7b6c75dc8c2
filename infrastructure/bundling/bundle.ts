/**
 * esbuild bundling of the functions: one minified ESM bundle per function with a source
 * map, for the Lambda runtime in the catalog. `npm run build` and the infrastructure
 * (which wraps each bundle in a TerraformAsset) both call this.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { FUNCTIONS, LAMBDA_RUNTIME, type FunctionDefinition } from '../../functions/catalog';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DEFAULT_DIST = path.join(REPO_ROOT, 'dist');

export interface BundleResult {
  name: string;
  /** Directory holding `index.mjs` and `index.mjs.map`: what gets zipped and deployed. */
  dir: string;
  file: string;
  bytes: number;
}

export async function bundleFunction(fn: Pick<FunctionDefinition, 'name' | 'entry'>, distDir = DEFAULT_DIST): Promise<BundleResult> {
  const dir = path.join(distDir, fn.name);
  const file = path.join(dir, 'index.mjs');
  await build({
    entryPoints: [path.join(REPO_ROOT, fn.entry)],
    outfile: file,
    bundle: true,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_RUNTIME.esbuildTarget,
    // Bundled CommonJS dependencies (pg, the SDK's) call require() for Node built-ins.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    // pg's optional native binding is never installed.
    external: ['pg-native'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  return { name: fn.name, dir, file, bytes: statSync(file).size };
}

/** Bundles by function name. */
export type FunctionBundles = Readonly<Record<string, Pick<BundleResult, 'dir'>>>;

/** Builds every function with esbuild (`bundleFunction`), concurrently, into `distDir`. */
export async function bundleFunctions(distDir: string = DEFAULT_DIST, functions: readonly FunctionDefinition[] = FUNCTIONS): Promise<Record<string, BundleResult>> {
  const results = await Promise.all(functions.map((fn) => bundleFunction(fn, distDir)));
  return Object.fromEntries(results.map((result) => [result.name, result]));
}
