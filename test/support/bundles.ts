/** The bundles test/support/synth-setup.ts built once for the synth project, by function name. */
import type { BundleResult } from '../../infrastructure/bundling/bundle';

export function sharedBundles(): { distDir: string; bundles: Readonly<Record<string, BundleResult>> } {
  const shared = process.env.CRUDDUR_TEST_BUNDLES;
  if (!shared) throw new Error('The synth tests need the bundles of test/support/synth-setup.ts (run them through jest --selectProjects synth)');
  return JSON.parse(shared) as { distDir: string; bundles: Record<string, BundleResult> };
}
