/**
 * `npm run bench -- devloop`: the developer's loop against its floors, measured in one run.
 *
 *  - baseline: `tsx` starting an empty file (the cost of any TypeScript command here);
 *  - the CDKTF CLI's `cdktf synth` (which users on Node.js 20 and 22 may run), against a trivial CDKTF app (one stack, one
 *    resource) through the same CLI: the CLI's own floor;
 *  - the app alone (`npm run synth`, cdktf.json's command) with its bundles cached, and cold (forced rebuild);
 *  - `npm start` to "API ready", fresh (a new data directory) and warm (the same one again),
 *    against the baseline and against the services' own start (the slowest "up" line);
 *  - `npm test`, once, against the baseline.
 *
 * Everything but `npm test` is interleaved over rounds and the medians kept. Wall time and
 * peak memory come from the whole process tree (bench/lib/process-tree.ts).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../infrastructure/bundling/bundle';
import { getFreePort } from '../local/services/process';
import { CACHE_DIR } from '../local/services/pglite-snapshot';
import type { Benchmark, Table, Target } from './lib/harness';
import { measureTree, type TreeRun } from './lib/process-tree';
import { percentile, round } from './lib/stats';

const ROUNDS = 3;
const TIMEOUT_MS = 900_000;
/** The targets. */
const TARGETS = { synthVsFloor: 1.3, appCached: 2.5, appPeakMiB: 200, startFresh: 10, startWarm: 8, test: 130 };

const bin = (name: string) => path.join(REPO_ROOT, 'node_modules', '.bin', name);
const median = (values: number[]) => percentile(values, 50);

/** A CDKTF app with one stack and one resource: what any app pays for the CLI and the libraries. */
function writeTrivialApp(): string {
  // Under node_modules/.cache so that its imports resolve to the repository's packages.
  const dir = path.join(CACHE_DIR, 'devloop-trivial-app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'main.ts'),
    [
      "import { App, TerraformStack } from 'cdktf';",
      "import { AwsProvider } from '@cdktf/provider-aws/lib/provider';",
      "import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';",
      'const app = new App();',
      "const stack = new TerraformStack(app, 'trivial');",
      "new AwsProvider(stack, 'aws', { region: 'us-east-1' });",
      "new SqsQueue(stack, 'queue', { name: 'trivial' });",
      'app.synth();',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'cdktf.json'),
    JSON.stringify({ language: 'typescript', app: 'node --import tsx main.ts', terraformProviders: [], terraformModules: [], context: {} }),
  );
  return dir;
}

interface StartRun {
  wallMs: number;
  /** The slowest of the three services' own "up" times, as npm start prints them. */
  servicesMs: number;
}

/** `npm start`'s command until it prints "API ready", on free ports and its own data directory; then Ctrl-C. */
async function timeStart(dataDir: string): Promise<StartRun> {
  const ports = { PORT: await getFreePort(), DYNAMODB_PORT: await getFreePort(), POSTGRES_PORT: await getFreePort(), COGNITO_PORT: await getFreePort() };
  const env = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])), CRUDDUR_DATA_DIR: dataDir };
  const began = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'start.ts')], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start was not ready after ${TIMEOUT_MS / 1000} s:\n${output.slice(-2000)}`)), TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('API ready at')) {
        clearTimeout(timer);
        resolve(Number(process.hrtime.bigint() - began) / 1e6);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code} before it was ready:\n${output.slice(-2000)}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
  const upTimes = [...output.matchAll(/ up at \S+ \(([\d.]+) s\)/g)].map((match) => Number(match[1]) * 1000);
  return { wallMs: ready, servicesMs: Math.max(...upTimes) };
}

export const benchmark: Benchmark = {
  name: 'devloop',
  summary:
    'cdktf synth vs a trivial CDKTF app through the same CLI, the app alone cold and cached, npm start fresh and warm, npm test: against tsx starting an empty file',
  async run(context) {
    const empty = path.join(context.scratchDir, 'empty.ts');
    writeFileSync(empty, '');
    const outdir = path.join(context.scratchDir, 'cdktf.out');
    const trivial = writeTrivialApp();
    const app = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdktf.json'), 'utf8')) as { app: string }).app;
    const common = { ...process.env, CHECKPOINT_DISABLE: '1' };
    const measured = async (label: string, command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<TreeRun> => {
      const run = await measureTree(command, args, { cwd: options.cwd ?? REPO_ROOT, env: { ...common, ...options.env }, timeoutMs: TIMEOUT_MS });
      if (run.exitCode !== 0) throw new Error(`${label} exited with ${run.exitCode}:\n${run.output.slice(-2000)}`);
      return run;
    };

    const subjects = {
      baseline: { label: 'tsx empty.ts (baseline)', run: () => measured('baseline', bin('tsx'), [empty]) },
      floor: {
        label: 'cdktf synth of a trivial app (CLI floor)',
        run: () => measured('trivial synth', bin('cdktf'), ['synth', '--output', path.join(context.scratchDir, 'trivial.out')], { cwd: trivial }),
      },
      synth: { label: 'cdktf synth (the CDKTF CLI)', run: () => measured('cdktf synth', bin('cdktf'), ['synth', '--output', outdir]) },
      appCold: {
        label: 'the app alone, bundles rebuilt',
        run: () => measured('app', 'sh', ['-c', app], { env: { CDKTF_OUTDIR: outdir, CRUDDUR_REBUILD_BUNDLES: '1' } }),
      },
      appCached: { label: 'the app alone, bundles cached', run: () => measured('app', 'sh', ['-c', app], { env: { CDKTF_OUTDIR: outdir } }) },
    };
    const runs: Record<keyof typeof subjects, TreeRun[]> = { baseline: [], floor: [], synth: [], appCold: [], appCached: [] };
    const starts: { fresh: StartRun[]; warm: StartRun[] } = { fresh: [], warm: [] };
    for (let round_ = 1; round_ <= ROUNDS; round_ += 1) {
      for (const [key, subject] of Object.entries(subjects) as [keyof typeof subjects, (typeof subjects)[keyof typeof subjects]][]) {
        const run = await subject.run();
        runs[key].push(run);
        context.progress(`devloop ${round_}/${ROUNDS}: ${subject.label} ${round(run.wallMs / 1000)} s, largest process ${round(run.peakProcessRssMiB)} MiB`);
      }
      const dataDir = path.join(context.scratchDir, `start-${round_}`);
      for (const kind of ['fresh', 'warm'] as const) {
        const start = await timeStart(dataDir);
        starts[kind].push(start);
        context.progress(
          `devloop ${round_}/${ROUNDS}: npm start ${kind} ready in ${round(start.wallMs / 1000)} s (services ${round(start.servicesMs / 1000)} s)`,
        );
      }
    }
    context.progress('devloop: npm test (once; a few minutes)...');
    const test = await measured('npm test', 'npm', ['test'], { env: { CI: 'true' } });
    context.progress(`devloop: npm test ${round(test.wallMs / 1000)} s`);

    const wall = (key: keyof typeof subjects) => median(runs[key].map((run) => run.wallMs));
    const baseline = wall('baseline');
    const startFresh = median(starts.fresh.map((run) => run.wallMs));
    const startWarm = median(starts.warm.map((run) => run.wallMs));
    const servicesFresh = median(starts.fresh.map((run) => run.servicesMs));
    const servicesWarm = median(starts.warm.map((run) => run.servicesMs));
    const appPeak = Math.max(...runs.appCached.map((run) => run.peakProcessRssMiB), ...runs.appCold.map((run) => run.peakProcessRssMiB));
    const x = (ms: number, of = baseline) => `${round(ms / of, 2)}x`;

    const table: Table = {
      title: `Developer loop: median of ${ROUNDS} interleaved rounds (npm test: one run)`,
      columns: ['command', 'wall s', 'x baseline', 'other ratio', 'largest process MiB'],
      rows: [
        ...(Object.keys(subjects) as (keyof typeof subjects)[]).map((key) => [
          subjects[key].label,
          round(wall(key) / 1000, 2),
          x(wall(key)),
          key === 'synth' ? `${x(wall('synth'), wall('floor'))} the CLI floor` : '',
          round(median(runs[key].map((run) => run.peakProcessRssMiB)), 0),
        ]),
        [
          'npm start to ready, fresh data directory',
          round(startFresh / 1000, 2),
          x(startFresh),
          `${x(startFresh, servicesFresh)} the services' own start (${round(servicesFresh / 1000, 2)} s)`,
          '',
        ],
        [
          'npm start to ready, warm (same directory)',
          round(startWarm / 1000, 2),
          x(startWarm),
          `${x(startWarm, servicesWarm)} the services' own start (${round(servicesWarm / 1000, 2)} s)`,
          '',
        ],
        ['npm test (CI=true)', round(test.wallMs / 1000, 1), x(test.wallMs), '', ''],
      ],
      note: 'CHECKPOINT_DISABLE=1; "bundles rebuilt" forces esbuild and the zips (CRUDDUR_REBUILD_BUNDLES=1); npm start runs on free ports with its own data directory',
    };
    const ratio = (ms: number, of: number) => ms / of;
    const targets: Target[] = [
      {
        name: 'cdktf synth / trivial app through the CLI',
        target: `<= ${TARGETS.synthVsFloor}x`,
        actual: x(wall('synth'), wall('floor')),
        met: ratio(wall('synth'), wall('floor')) <= TARGETS.synthVsFloor,
      },
      {
        name: 'the app alone, bundles cached / baseline',
        target: `<= ${TARGETS.appCached}x`,
        actual: x(wall('appCached')),
        met: ratio(wall('appCached'), baseline) <= TARGETS.appCached,
      },
      {
        name: "the app's peak memory (largest process)",
        target: `< ${TARGETS.appPeakMiB} MiB`,
        actual: `${round(appPeak, 0)} MiB`,
        met: appPeak < TARGETS.appPeakMiB,
      },
      {
        name: 'npm start to ready, fresh / baseline',
        target: `<= ${TARGETS.startFresh}x`,
        actual: x(startFresh),
        met: ratio(startFresh, baseline) <= TARGETS.startFresh,
      },
      {
        name: 'npm start to ready, warm / baseline',
        target: `<= ${TARGETS.startWarm}x`,
        actual: x(startWarm),
        met: ratio(startWarm, baseline) <= TARGETS.startWarm,
      },
      { name: 'npm test / baseline', target: `<= ${TARGETS.test}x`, actual: x(test.wallMs), met: ratio(test.wallMs, baseline) <= TARGETS.test },
    ];
    const strip = (list: TreeRun[]) => list.map(({ output: _output, ...run }) => run);
    return {
      tables: [table],
      targets,
      figures: {
        baselineMs: baseline,
        runs: Object.fromEntries(Object.entries(runs).map(([key, list]) => [key, strip(list)])),
        starts,
        test: { wallMs: test.wallMs, peakTreeRssMiB: test.peakTreeRssMiB },
      },
    };
  },
};
