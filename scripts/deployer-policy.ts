/**
 * `npm run deployer-policy [-- --preflight]`: the least-privilege IAM policy of whoever
 * deploys these stacks with the current `CRUDDUR_*` settings, printed as JSON on stdout (the
 * progress goes to stderr): the stacks are synthesized into a temporary directory and every
 * Terraform type they hold is looked up in infrastructure/deployer-policy.ts. docs/deploy.md
 * shows how to attach it to a person or to CI's role.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../infrastructure/config';
import { deployerPolicy, synthesizedTypes, type PolicyDocument } from '../infrastructure/deployer-policy';
import { stacksInOrder, synthesize } from './lib/stacks';

const USAGE = `npm run -s deployer-policy [-- --preflight] > deployer-policy.json

Prints the IAM policy npm run deploy needs for the stacks the CRUDDUR_* settings describe
(resources scoped to the environment's names and region). --preflight adds the read-only
calls of npm run preflight.`;

/** The policy for the stacks synthesized into `outdir`. */
export function policyOf(outdir: string, env: NodeJS.ProcessEnv, preflight: boolean): PolicyDocument {
  const config = loadConfig({ ...env, CRUDDUR_STRICT_CONFIG: '0' });
  const types = stacksInOrder(outdir).flatMap((stack) => synthesizedTypes(JSON.parse(readFileSync(stack.file, 'utf8'))));
  return deployerPolicy(types, {
    region: config.region,
    namePrefix: config.namePrefix,
    tableName: config.table.name,
    preflight,
    ...(config.stateBucket ? { stateBucket: config.stateBucket } : {}),
  });
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { preflight: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-policy-'));
  try {
    console.error('deployer-policy: synthesizing the stacks of the current settings…');
    // The app's own lines (refusals, "synthesized …") go to stderr too: stdout is the policy alone.
    const code = await synthesize(outdir, { ...process.env, CRUDDUR_STRICT_CONFIG: '0', CRUDDUR_SYNTH_LOG: 'stderr' });
    if (code !== 0) return code;
    console.log(JSON.stringify(policyOf(outdir, process.env, values.preflight ?? false), null, 2));
    return 0;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`deployer-policy: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
