import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__LOCAL_SERVICES__?.stop();
  if (process.env.CRUDDUR_TEST_SCRATCH) rmSync(process.env.CRUDDUR_TEST_SCRATCH, { recursive: true, force: true });
}
