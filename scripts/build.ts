/**
 * `npm run build [-- --outdir <dir>]`: bundles every function of the catalog with esbuild
 * into `<outdir>/<name>/index.mjs` (+ source map), for the Lambda runtime of the catalog,
 * and prints a table of bundle sizes. `--outdir` defaults to `dist/`.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { FUNCTIONS, LAMBDA_RUNTIME } from '../functions/catalog';
import { DEFAULT_DIST, bundleFunctions, type BundleResult } from '../infrastructure/bundling/bundle';

export interface BuiltFunction extends BundleResult {
  mapBytes: number;
  /** Roughly what the deployed zip weighs (the map excluded). */
  gzipBytes: number;
}

/** Bundles every catalog function into `distDir` in one esbuild pass (skipped when no input changed). */
export async function buildAll(distDir = DEFAULT_DIST): Promise<BuiltFunction[]> {
  const results = await bundleFunctions(distDir, FUNCTIONS);
  return FUNCTIONS.map((fn) => {
    const result = results[fn.name]!;
    return { ...result, mapBytes: readFileSync(`${result.file}.map`).length, gzipBytes: gzipSync(readFileSync(result.file)).length };
  });
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The size table `npm run build` prints. */
export function sizeTable(built: readonly BuiltFunction[], root = process.cwd()): string {
  const rows = [
    ['function', 'bundle', 'gzip', 'source map', 'file', 'loaded when needed'],
    ...built.map((fn) => [
      fn.name,
      kib(fn.bytes),
      kib(fn.gzipBytes),
      kib(fn.mapBytes),
      path.relative(root, fn.file),
      fn.lazyFiles.map((name) => `${name} ${kib(statSync(path.join(fn.dir, name)).size)}`).join(', '),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  // Names, paths and lazily loaded files left-aligned, sizes right-aligned.
  const format = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 || column >= 4 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [format(rows[0]!), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.slice(1).map(format)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { outdir: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    console.log(
      'npm run build [-- --outdir <dir>]\n\nBundles every function of functions/catalog.ts into <dir>/<name>/index.mjs (default dir: dist), with pg.mjs beside those that read users (loaded on a miss of the user directory).',
    );
    return;
  }
  const distDir = values.outdir === undefined ? DEFAULT_DIST : path.resolve(values.outdir);
  const began = Date.now();
  const built = await buildAll(distDir);
  console.log(sizeTable(built));
  console.log(
    `\n${built.length} functions bundled for ${LAMBDA_RUNTIME.name} (${LAMBDA_RUNTIME.architecture}) in ${((Date.now() - began) / 1000).toFixed(1)} s`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`build: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
