/**
 * The CDKTF app (`npm run synth`, and `cdktf.json` for the CDKTF CLI): bundles the functions,
 * then synthesizes the stacks of the environment `CRUDDUR_ENV` names into `CDKTF_OUTDIR`
 * (default cdktf.out), replacing what an earlier synth wrote there.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { App } from 'cdktf';
import { buildStacks, stackNames } from './app';
import { bundleFunctions } from './bundling/bundle';
import { loadConfig } from './config';

/** `CRUDDUR_SYNTH_LOG=stderr` keeps stdout clean for a caller that prints something of its own there. */
const log = process.env.CRUDDUR_SYNTH_LOG === 'stderr' ? (line: string) => console.error(line) : (line: string) => console.log(line);

async function main(): Promise<void> {
  const config = loadConfig();
  for (const refusal of config.deployRefusals) {
    log(`[cruddur] ${config.environment}: ${refusal} (fine for synth; deploy refuses it)`);
  }
  // CRUDDUR_REBUILD_BUNDLES=1 rebuilds even when no input changed (the benchmark's cold case).
  const bundles = await bundleFunctions(undefined, undefined, { force: process.env.CRUDDUR_REBUILD_BUNDLES === '1' });
  const outdir = process.env.CDKTF_OUTDIR ?? 'cdktf.out';
  // A stack no longer in the app must not linger in the output (the CDKTF CLI cleans it too).
  rmSync(path.join(outdir, 'stacks'), { recursive: true, force: true });
  const app = new App({ outdir });
  buildStacks(app, config, bundles);
  app.synth();
  log(`[cruddur] synthesized ${Object.values(stackNames(config)).join(', ')} into ${outdir}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exit(1);
});
