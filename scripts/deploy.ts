/**
 * `npm run deploy`, `npm run diff` and `npm run destroy`: synthesize the stacks (strictly for
 * deploy and diff: example values and a network without a database route are refused), then
 * run Terraform in each stack's directory, in dependency order (reversed for destroy), with
 * the terminal attached so Terraform asks before it changes anything. What `cdktf deploy`
 * does, on every Node.js this project supports (scripts/lib/stacks.ts says why).
 */
import { writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runInherited, selectStacks, stacksInOrder, synthesize, SYNTH_OUTDIR, type SynthesizedStackEntry } from './lib/stacks';

const exec = promisify(execFile);

export type StackAction = 'deploy' | 'diff' | 'destroy';

const USAGE: Record<StackAction, string> = {
  deploy:
    'npm run deploy [-- <stack>... --auto-approve --outputs-file <file>]\n\nSynthesizes (CRUDDUR_STRICT_CONFIG=1), then terraform init and apply in each stack, dependencies first. Without stacks: all of them.',
  diff: "npm run diff [-- <stack>...]\n\nSynthesizes (CRUDDUR_STRICT_CONFIG=1), then terraform init and plan in each stack. A stack that reads another's state plans only once that one is deployed.",
  destroy: 'npm run destroy [-- <stack>... --auto-approve]\n\nSynthesizes, then terraform destroy in each stack, dependents first (docs/deploy.md, Teardown).',
};

export interface StackRunOptions {
  action: StackAction;
  /** The synth output to run over. */
  outdir: string;
  /** Stack names; all when empty. */
  stacks: string[];
  autoApprove: boolean;
  /** Where deploy writes every stack's outputs as JSON (`{ stack: { output: value } }`). */
  outputsFile?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Terraform's own output to nowhere (tests); otherwise it has the terminal. */
  quiet?: boolean;
}

/** The environment Terraform runs in: no version check-in call, no questions but apply's own. */
function terraformEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { CHECKPOINT_DISABLE: '1', ...env };
}

/**
 * Terraform over already synthesized stacks. @returns the exit code of the first failing
 * Terraform command, or 0.
 */
export async function runStacks(options: StackRunOptions): Promise<number> {
  const log = options.log ?? ((line: string) => console.log(line));
  const env = terraformEnv(options.env ?? process.env);
  const selected = selectStacks(stacksInOrder(options.outdir), options.stacks);
  const ordered: SynthesizedStackEntry[] = options.action === 'destroy' ? [...selected].reverse() : selected;
  const approve = options.autoApprove ? ['-auto-approve'] : [];
  const outputs: Record<string, Record<string, unknown>> = {};
  for (const [index, stack] of ordered.entries()) {
    log(`\n[${options.action} ${index + 1}/${ordered.length}] ${stack.name}`);
    const init = await runInherited('terraform', ['init', '-input=false'], { cwd: stack.directory, env, quiet: options.quiet });
    if (init !== 0) return fail(log, stack, 'init', init);
    const args = options.action === 'deploy' ? ['apply', ...approve] : options.action === 'diff' ? ['plan', '-input=false'] : ['destroy', ...approve];
    const code = await runInherited('terraform', args, { cwd: stack.directory, env, quiet: options.quiet });
    if (code !== 0) return fail(log, stack, args[0]!, code);
    if (options.action === 'deploy') {
      const { stdout } = await exec('terraform', ['output', '-json'], { cwd: stack.directory, env });
      outputs[stack.name] = Object.fromEntries(
        Object.entries(JSON.parse(stdout) as Record<string, { value: unknown; sensitive: boolean }>)
          .filter(([, output]) => !output.sensitive)
          .map(([name, output]) => [name, output.value]),
      );
    }
  }
  if (options.action === 'deploy') {
    for (const [stack, values] of Object.entries(outputs)) {
      for (const [name, value] of Object.entries(values)) log(`${stack}  ${name} = ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    }
    if (options.outputsFile) {
      writeFileSync(options.outputsFile, `${JSON.stringify(outputs, null, 2)}\n`);
      log(`outputs written to ${options.outputsFile}`);
    }
  }
  log(`\n${options.action}: ${ordered.map((stack) => stack.name).join(', ')} done`);
  return 0;
}

function fail(log: (line: string) => void, stack: SynthesizedStackEntry, step: string, code: number): number {
  log(`\nterraform ${step} failed in ${stack.name} (exit ${code}); the stacks after it were not touched`);
  return code;
}

export async function main(action: StackAction, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'auto-approve': { type: 'boolean', default: false },
      'outputs-file': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(USAGE[action]);
    return 0;
  }
  if (action !== 'deploy' && values['outputs-file']) throw new Error('--outputs-file is for deploy');
  // Deploy and diff refuse settings that could not work; destroy must work whatever they say now.
  const strict = action === 'destroy' ? '0' : '1';
  const synthCode = await synthesize(SYNTH_OUTDIR, { ...process.env, CRUDDUR_STRICT_CONFIG: strict });
  if (synthCode !== 0) return synthCode;
  return runStacks({
    action,
    outdir: SYNTH_OUTDIR,
    stacks: positionals,
    autoApprove: values['auto-approve'] ?? false,
    ...(values['outputs-file'] ? { outputsFile: path.resolve(values['outputs-file']) } : {}),
  });
}

if (require.main === module) {
  const [action, ...argv] = process.argv.slice(2);
  if (action !== 'deploy' && action !== 'diff' && action !== 'destroy') {
    console.error('usage: tsx scripts/deploy.ts deploy|diff|destroy [options]');
    process.exit(2);
  }
  main(action, argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`${action}: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(error instanceof TypeError && /ERR_PARSE_ARGS/.test(String((error as { code?: string }).code)) ? 2 : 1);
    },
  );
}
