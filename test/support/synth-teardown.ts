import { rmSync } from 'node:fs';

export default async function synthTeardown(): Promise<void> {
  if (process.env.CRUDDUR_TEST_BUNDLES) rmSync(process.env.CRUDDUR_TEST_BUNDLES, { recursive: true, force: true });
}
