/**
 * The synthesized stacks and Terraform, without the CDKTF CLI: synth runs the app itself
 * (`infrastructure/main.ts`, which is all `cdktf synth` runs), and deploy, diff and destroy
 * run Terraform in each stack's directory in dependency order, as `cdktf deploy` does. The
 * CLI adds nothing the stacks need, and it cannot load on Node.js 24 (its node-pty has no
 * build for that ABI), so these work on every Node.js the project supports.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPOSITORY_ROOT } from '../../local/paths';

/** Where synth writes, as cdktf.json says. */
export const SYNTH_OUTDIR = path.join(REPOSITORY_ROOT, 'cdktf.out');

export interface SynthesizedStackEntry {
  name: string;
  /** The stack's Terraform working directory. */
  directory: string;
  /** Its `cdk.tf.json`. */
  file: string;
  dependencies: string[];
}

/** Runs a command with the terminal, and resolves with its exit code. */
export function runInherited(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? REPOSITORY_ROOT, env: options.env ?? process.env, stdio: options.quiet ? 'ignore' : 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 1 : 1)));
  });
}

/** `npm run synth` itself: the app, into `outdir`. @returns its exit code. */
export function synthesize(outdir: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runInherited(process.execPath, ['--import', 'tsx', path.join(REPOSITORY_ROOT, 'infrastructure', 'main.ts')], {
    env: { ...env, CDKTF_OUTDIR: outdir },
  });
}

/** The stacks of a synth output, each after the stacks it depends on. */
export function stacksInOrder(outdir: string): SynthesizedStackEntry[] {
  const manifestFile = path.join(outdir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`${path.relative(process.cwd(), manifestFile)} does not exist: synthesize first (npm run synth)`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    stacks: Record<string, { dependencies: string[]; workingDirectory: string; synthesizedStackPath: string }>;
  };
  const ordered: SynthesizedStackEntry[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (ordered.some((stack) => stack.name === name)) return;
    const entry = manifest.stacks[name];
    if (!entry) throw new Error(`the synth output names a stack "${name}" it does not hold`);
    if (visiting.has(name)) throw new Error(`stacks depend on each other in a cycle through ${name}`);
    visiting.add(name);
    for (const dependency of entry.dependencies) visit(dependency);
    ordered.push({
      name,
      directory: path.join(outdir, entry.workingDirectory),
      file: path.join(outdir, entry.synthesizedStackPath),
      dependencies: entry.dependencies,
    });
  };
  Object.keys(manifest.stacks).sort().forEach(visit);
  return ordered;
}

/**
 * The stacks `requested` names (all when none), in dependency order.
 * @throws Error naming the stacks that do not exist.
 */
export function selectStacks(stacks: SynthesizedStackEntry[], requested: string[]): SynthesizedStackEntry[] {
  const unknown = requested.filter((name) => !stacks.some((stack) => stack.name === name));
  if (unknown.length > 0) throw new Error(`no stack ${unknown.join(', ')}; the stacks are ${stacks.map((stack) => stack.name).join(', ')}`);
  return requested.length === 0 ? stacks : stacks.filter((stack) => requested.includes(stack.name));
}
