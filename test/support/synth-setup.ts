/**
 * Bundles every catalog function once for the synth tests (they share the bundles instead of
 * each running esbuild), into a temporary directory named by `CRUDDUR_TEST_BUNDLES`.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleFunctions } from '../../infrastructure/bundling/bundle';

export default async function synthSetup(): Promise<void> {
  const distDir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-synth-bundles-'));
  await bundleFunctions(distDir);
  process.env.CRUDDUR_TEST_BUNDLES = distDir;
}
