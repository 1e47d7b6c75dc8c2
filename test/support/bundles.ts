/** The bundles test/support/synth-setup.ts built once for the synth project, by function name. */
import path from 'node:path';
import { FUNCTIONS } from '../../functions/catalog';
import type { FunctionBundles } from '../../infrastructure/bundling/bundle';

export function sharedBundles(): { distDir: string; bundles: FunctionBundles } {
  const distDir = process.env.CRUDDUR_TEST_BUNDLES;
  if (!distDir) throw new Error('The synth tests need the bundles of test/support/synth-setup.ts (run them through jest --selectProjects synth)');
  return { distDir, bundles: Object.fromEntries(FUNCTIONS.map((fn) => [fn.name, { dir: path.join(distDir, fn.name) }])) };
}
