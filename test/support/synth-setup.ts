/**
 * Bundles every catalog function once per test run for the synth tests (they share the
 * bundles instead of each running esbuild), into a cache directory where the bundler's own
 * hash check skips the work when no source changed since the last run. The results reach
 * the test workers through `CRUDDUR_TEST_BUNDLES` (test/support/bundles.ts).
 */
import path from 'node:path';
import { bundleFunctions } from '../../infrastructure/bundling/bundle';
import { CACHE_DIR } from '../../local/services/pglite-snapshot';

export default async function synthSetup(): Promise<void> {
  const distDir = path.join(CACHE_DIR, 'synth-bundles');
  const results = await bundleFunctions(distDir);
  const bundles = Object.fromEntries(Object.values(results).map((result) => [result.name, result]));
  process.env.CRUDDUR_TEST_BUNDLES = JSON.stringify({ distDir, bundles });
}
