/**
 * esbuild bundling of the functions: one minified ESM bundle per function with a source map,
 * for the Lambda runtime in the catalog, all in one esbuild pass (one build with an entry per
 * function gives byte-identical bundles in a third of the time of one build each). Each bundle
 * is zipped here too, in-process and deterministically, so the same code gives the same zip
 * and hash on every machine, and the stacks deploy the zip as it is (a FILE asset).
 *
 * A package that functions load only on a path most invocations never take (`pg`: a miss of the
 * user directory) is a file of its own beside the bundle (`pg.mjs`, built once in the same pass
 * and copied into each function that imports it), loaded by its `import()` when that path runs:
 * a cold start does not parse it. `npm run bench -- cold-start` measured about 8 ms of import
 * saved per function that reads users.
 *
 * Nothing is redone that is already done: the pass is skipped when none of its inputs (the
 * files esbuild read last time, the options, esbuild's version) changed, and zips are kept by
 * content hash. `npm run build`, `npm run synth` and the tests all call `bundleFunctions`.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, version as esbuildVersion, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { zipSync } from 'fflate';
import { FUNCTIONS, LAMBDA_RUNTIME, type FunctionDefinition } from '../../functions/catalog';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DEFAULT_DIST = path.join(REPO_ROOT, 'dist');

export interface BundleResult {
  name: string;
  /** Directory holding `index.mjs`, `index.mjs.map` and the lazily loaded files it imports. */
  dir: string;
  file: string;
  /** Bytes of `index.mjs`: what a cold start loads. */
  bytes: number;
  /** Files beside the bundle that it loads only when needed (`pg.mjs`), each with its map. */
  lazyFiles: string[];
  /** The deployment package: `index.mjs`, the lazily loaded files and their maps, zipped with fixed dates and modes. */
  zipFile: string;
  /** Base64 SHA-256 of the zip: what Lambda reports as CodeSha256, and the function's source_code_hash. */
  zipSha256: string;
  /** Bytes of the bundle by npm package (`(ours)` for this repository's sources), largest first. */
  packages: [name: string, bytes: number][];
}

/** What the stacks need of a bundle. */
export type FunctionBundles = Readonly<Record<string, Pick<BundleResult, 'zipFile' | 'zipSha256'>>>;

export interface BundleOptions {
  /** Rebuild and rezip even when nothing changed (the cold case of `npm run bench -- devloop`). */
  force?: boolean;
}

function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Written beside the bundles: what the last pass read, to tell whether the next one has anything to do. */
interface Manifest {
  key: string;
  inputs: Record<string, string>;
  results: Record<string, BundleResult>;
}

/** One manifest per set of functions built into a directory (the catalog, or one function for a benchmark). */
const manifestOf = (distDir: string, functions: readonly Pick<FunctionDefinition, 'name'>[]) =>
  path.join(
    distDir,
    `.bundles-${sha256(functions.map((fn) => fn.name).join(','))
      .toString('hex')
      .slice(0, 12)}.json`,
  );
/** Zips by content hash; one directory per dist directory, so `rm -rf dist` clears both. */
const ZIP_CACHE = '.zips';
/**
 * Entry date of every zip: 2000-01-01 00:00. fflate writes DOS dates from a Date's local-time
 * fields, so the Date is built from local fields, when it is used (the zone may change at run
 * time): it reads the same in every time zone.
 */
const zipDate = () => new Date(2000, 0, 1, 0, 0, 0);
/** Regular file, rw-r--r--: Lambda needs every file world-readable. */
const ZIP_FILE_ATTRIBUTES = 0o100644 << 16;
const UNIX = 3;

/** Packages built into a file of their own (`<name>.mjs`), which the functions `import()` when they need them. */
const LAZY_PACKAGES = ['pg'] as const;
const LAZY_DIR = '_lazy';
const lazyFileOf = (pkg: string) => `${pkg}.mjs`;

/** A function's `import('pg')` becomes `import('./pg.mjs')`, the file beside its bundle; the package's own entry is built as usual. */
const lazyPackages: Plugin = {
  name: 'lazy-packages',
  setup(pluginBuild) {
    const filter = new RegExp(`^(${LAZY_PACKAGES.join('|')})$`);
    pluginBuild.onResolve({ filter }, (args) => (args.kind === 'entry-point' ? undefined : { path: `./${lazyFileOf(args.path)}`, external: true }));
  },
};

function esbuildOptions(functions: readonly Pick<FunctionDefinition, 'name' | 'entry'>[], distDir: string): BuildOptions {
  return {
    entryPoints: {
      ...Object.fromEntries(functions.map((fn) => [`${fn.name}/index`, path.join(REPO_ROOT, fn.entry)])),
      ...Object.fromEntries(LAZY_PACKAGES.map((pkg) => [`${LAZY_DIR}/${pkg}`, pkg])),
    },
    outdir: distDir,
    outExtension: { '.js': '.mjs' },
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
    metafile: true,
    plugins: [lazyPackages],
  };
}

function hashFile(file: string): string | undefined {
  try {
    return sha256(readFileSync(file)).toString('hex');
  } catch {
    return undefined;
  }
}

/** The last pass's results, if its options and every file it read are unchanged and its outputs are still there. */
function reusable(manifestFile: string, key: string): Record<string, BundleResult> | undefined {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
  if (manifest.key !== key) return undefined;
  for (const [file, hash] of Object.entries(manifest.inputs)) if (hashFile(path.join(REPO_ROOT, file)) !== hash) return undefined;
  for (const result of Object.values(manifest.results)) {
    const files = [result.file, ...result.lazyFiles.map((name) => path.join(result.dir, name))];
    if (!files.every((file) => existsSync(file) && existsSync(`${file}.map`)) || !existsSync(result.zipFile)) return undefined;
  }
  return manifest.results;
}

/** A file's key in esbuild's metafile: relative to the working directory, with forward slashes. */
const outputKey = (file: string) => path.relative(process.cwd(), file).split(path.sep).join('/');

/** `node_modules/@aws-sdk/client-dynamodb/dist-cjs/x.js` -> `@aws-sdk/client-dynamodb`. */
function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return '(ours)';
  return /^(@[^/]+\/[^/]+|[^/]+)/.exec(input.slice(at + 'node_modules/'.length))?.[1] ?? '(ours)';
}

function packagesOf(output: Metafile['outputs'][string]): [string, number][] {
  const bytes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) bytes.set(packageOf(input), (bytes.get(packageOf(input)) ?? 0) + bytesInOutput);
  return [...bytes].sort((a, b) => b[1] - a[1]);
}

/** The bundle directory's deployment zip (`index.mjs`, the lazily loaded files, each with its map), made once per content. */
function zipBundle(dir: string, lazyFiles: readonly string[], zipDir: string): { zipFile: string; zipSha256: string } {
  const names = ['index.mjs', ...lazyFiles].flatMap((name) => [name, `${name}.map`]);
  const contents = names.map((name) => readFileSync(path.join(dir, name)));
  const hash = createHash('sha256');
  for (const [index, name] of names.entries()) hash.update(name).update('\0').update(contents[index]!).update('\0');
  const zipFile = path.join(zipDir, `${hash.digest('hex')}.zip`);
  if (!existsSync(zipFile)) {
    const entry = { mtime: zipDate(), os: UNIX, attrs: ZIP_FILE_ATTRIBUTES };
    const zip = zipSync(Object.fromEntries(names.map((name, index) => [name, [contents[index]!, entry]])), { level: 6 });
    mkdirSync(zipDir, { recursive: true });
    const partial = `${zipFile}.${process.pid}.partial`;
    writeFileSync(partial, zip);
    renameSync(partial, zipFile);
  }
  return { zipFile, zipSha256: sha256(readFileSync(zipFile)).toString('base64') };
}

/**
 * Bundles and zips `functions` (every catalog entry by default) into `distDir/<name>/`, or
 * returns the previous pass's results when nothing it depends on changed.
 */
export async function bundleFunctions(
  distDir: string = DEFAULT_DIST,
  functions: readonly Pick<FunctionDefinition, 'name' | 'entry'>[] = FUNCTIONS,
  options: BundleOptions = {},
): Promise<Record<string, BundleResult>> {
  const buildOptions = esbuildOptions(functions, distDir);
  const key = sha256(JSON.stringify({ esbuildVersion, buildOptions, zip: ['2000-01-01T00:00 local', ZIP_FILE_ATTRIBUTES, 6] })).toString('hex');
  if (!options.force) {
    const previous = reusable(manifestOf(distDir, functions), key);
    if (previous) return previous;
  }

  const { metafile } = await build(buildOptions);
  const zipDir = path.join(distDir, ZIP_CACHE);
  const results: Record<string, BundleResult> = {};
  for (const fn of functions) {
    const dir = path.join(distDir, fn.name);
    const file = path.join(dir, 'index.mjs');
    const output = metafile!.outputs[outputKey(file)];
    if (!output) throw new Error(`esbuild wrote no ${file}`);
    const lazyFiles = LAZY_PACKAGES.map(lazyFileOf).filter((name) => output.imports.some((imported) => imported.external && imported.path === `./${name}`));
    for (const name of lazyFiles) for (const suffix of ['', '.map']) copyFileSync(path.join(distDir, LAZY_DIR, name + suffix), path.join(dir, name + suffix));
    results[fn.name] = { name: fn.name, dir, file, bytes: statSync(file).size, lazyFiles, ...zipBundle(dir, lazyFiles, zipDir), packages: packagesOf(output) };
  }
  // Inputs as esbuild names them (relative to the working directory), stored relative to the repository.
  const inputs = Object.fromEntries(
    Object.keys(metafile!.inputs).map((input) => {
      const absolute = path.resolve(input);
      return [path.relative(REPO_ROOT, absolute), hashFile(absolute) ?? ''];
    }),
  );
  writeFileSync(manifestOf(distDir, functions), `${JSON.stringify({ key, inputs, results } satisfies Manifest)}\n`);
  return results;
}

/** One function's bundle (`bundleFunctions` with a single entry). */
export async function bundleFunction(
  fn: Pick<FunctionDefinition, 'name' | 'entry'>,
  distDir = DEFAULT_DIST,
  options: BundleOptions = {},
): Promise<BundleResult> {
  return (await bundleFunctions(distDir, [fn], options))[fn.name]!;
}
