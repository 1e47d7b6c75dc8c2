/**
 * The CDKTF app (`cdktf.json`: `node --import tsx infrastructure/main.ts`): bundles the functions,
 * then synthesizes the stacks of the environment `CRUDDUR_ENV` names into cdktf.out.
 */
import { App } from 'cdktf';
import { buildStacks, stackNames } from './app';
import { bundleFunctions } from './bundling/bundle';
import { loadConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfig();
  for (const refusal of config.deployRefusals) {
    console.log(`[cruddur] ${config.environment}: ${refusal} (fine for synth; deploy refuses it)`);
  }
  // CRUDDUR_REBUILD_BUNDLES=1 rebuilds even when no input changed (the benchmark's cold case).
  const bundles = await bundleFunctions(undefined, undefined, { force: process.env.CRUDDUR_REBUILD_BUNDLES === '1' });
  const app = new App();
  buildStacks(app, config, bundles);
  app.synth();
  console.log(`[cruddur] synthesized ${Object.values(stackNames(config)).join(', ')}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exit(1);
});
