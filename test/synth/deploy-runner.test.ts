/**
 * `npm run deploy`, `diff` and `destroy` run Terraform stack by stack in dependency order
 * (scripts/deploy.ts), here over a synth output of two provider-less stacks, the second
 * reading the first's state as the lambdas stack reads the network's.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runStacks } from '../../scripts/deploy';
import { describeWithTerraform } from '../support/terraform-standins';

let outdir: string;

/** A synth output as the CDKTF app writes it: a manifest and one directory per stack. */
function writeSynthOutput(): void {
  const stacks = {
    'demo-network': { resource: { terraform_data: { vpc: { input: 'vpc-0123' } } }, output: { vpc_id: { value: '${terraform_data.vpc.output}' } } },
    'demo-lambdas': {
      data: { terraform_remote_state: { network: { backend: 'local', config: { path: path.join(outdir, 'terraform.demo-network.tfstate') } } } },
      resource: { terraform_data: { fn: { input: '${data.terraform_remote_state.network.outputs.vpc_id}' } } },
      output: { function_vpc: { value: '${terraform_data.fn.output}' }, hidden: { value: 'x', sensitive: true } },
    },
  };
  const manifest = { version: '0.21.0', stacks: {} as Record<string, unknown> };
  for (const [name, config] of Object.entries(stacks)) {
    mkdirSync(path.join(outdir, 'stacks', name), { recursive: true });
    writeFileSync(
      path.join(outdir, 'stacks', name, 'cdk.tf.json'),
      JSON.stringify({ terraform: { backend: { local: { path: path.join(outdir, `terraform.${name}.tfstate`) } } }, ...config }),
    );
    manifest.stacks[name] = {
      name,
      dependencies: name === 'demo-lambdas' ? ['demo-network'] : [],
      workingDirectory: `stacks/${name}`,
      synthesizedStackPath: `stacks/${name}/cdk.tf.json`,
    };
  }
  writeFileSync(path.join(outdir, 'manifest.json'), JSON.stringify(manifest));
}

beforeEach(() => {
  outdir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-deploy-'));
  writeSynthOutput();
});
afterEach(() => rmSync(outdir, { recursive: true, force: true }));

const env = { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1' };

describeWithTerraform('the deploy runner')('npm run deploy, diff and destroy', () => {
  it('deploys dependencies first, hands the outputs on, writes them, and destroys in reverse', async () => {
    // Prepare
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const outputsFile = path.join(outdir, 'outputs.json');

    // Act
    const deployed = await runStacks({ action: 'deploy', outdir, stacks: [], autoApprove: true, outputsFile, env, log, quiet: true });
    const planned = await runStacks({ action: 'diff', outdir, stacks: ['demo-lambdas'], autoApprove: false, env, log, quiet: true });
    const destroyed = await runStacks({ action: 'destroy', outdir, stacks: [], autoApprove: true, env, log, quiet: true });

    // Assess
    expect([deployed, planned, destroyed]).toEqual([0, 0, 0]);
    expect(lines.filter((line) => line.startsWith('\n['))).toEqual([
      '\n[deploy 1/2] demo-network',
      '\n[deploy 2/2] demo-lambdas',
      '\n[diff 1/1] demo-lambdas',
      '\n[destroy 1/2] demo-lambdas',
      '\n[destroy 2/2] demo-network',
    ]);
    // The second stack read the first one's state; sensitive outputs are not printed or written.
    expect(JSON.parse(readFileSync(outputsFile, 'utf8'))).toEqual({ 'demo-network': { vpc_id: 'vpc-0123' }, 'demo-lambdas': { function_vpc: 'vpc-0123' } });
    expect(lines).toContain('demo-lambdas  function_vpc = vpc-0123');
  });

  it('stops at the first stack Terraform fails on, and names it', async () => {
    writeFileSync(
      path.join(outdir, 'stacks', 'demo-network', 'cdk.tf.json'),
      JSON.stringify({ resource: { terraform_data: { vpc: { input: '${no_such.thing}' } } } }),
    );
    const lines: string[] = [];
    const code = await runStacks({ action: 'deploy', outdir, stacks: [], autoApprove: true, env, log: (line) => lines.push(line), quiet: true });
    expect(code).not.toBe(0);
    expect(lines.at(-1)).toMatch(/^\nterraform apply failed in demo-network \(exit \d+\); the stacks after it were not touched$/);
  });

  it('refuses a stack the synth output does not hold', async () => {
    await expect(runStacks({ action: 'diff', outdir, stacks: ['demo-app'], autoApprove: false, env, log: () => undefined, quiet: true })).rejects.toThrow(
      'no stack demo-app; the stacks are demo-network, demo-lambdas',
    );
  });
});
