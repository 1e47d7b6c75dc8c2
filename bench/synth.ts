/**
 * `npm run bench -- synth`: wall time and peak memory of `cdktf synth` as `npm run synth`
 * runs it (the CLI, which runs cdktf.json's app, which bundles the functions and
 * synthesizes the stacks), of the app alone as the CLI starts it (a shell), and of the
 * baseline: `tsx` starting an empty file. Repetitions are interleaved; medians are kept.
 * Memory is the whole process tree's (sum of VmRSS at the worst moment), polled in /proc.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../infrastructure/bundling/bundle';
import { type Benchmark, type Table, type Target } from './lib/harness';
import { percentile, round } from './lib/stats';
import { measureTree, type TreeRun } from './lib/process-tree';

// One run each: a synth takes over a minute on a two-core machine, two runs made the whole
// bench 11.4 min against the ten it must fit in, and the verdict (13x against a 2.5x target)
// does not hang on the noise a second run would average out.
const REPETITIONS = 1;
/** The issue's targets. */
const TARGET_TIME_RATIO = 2.5;
const TARGET_PEAK_MIB = 300;
// Generous: a synth takes seconds on an idle machine but minutes on a saturated one.
const TIMEOUT_MS = 900_000;

const bin = (name: string) => path.join(REPO_ROOT, 'node_modules', '.bin', name);

interface Subject {
  key: string;
  label: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

const median = (values: number[]) => percentile(values, 50);

export const benchmark: Benchmark = {
  name: 'synth',
  summary: 'cdktf synth (whole CLI, and the app alone) vs tsx starting an empty file: wall time and peak RSS of the process tree',
  async run(context) {
    const empty = path.join(context.scratchDir, 'empty.ts');
    writeFileSync(empty, '');
    const outdir = path.join(context.scratchDir, 'cdktf.out');
    const app = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdktf.json'), 'utf8')) as { app: string }).app;
    const subjects: Subject[] = [
      { key: 'baseline', label: 'tsx empty.ts (baseline)', command: bin('tsx'), args: [empty] },
      // cdktf.json's app, started the way the CLI starts it (a shell) and with the output
      // directory the CLI passes (CDKTF_OUTDIR), so the repository's cdktf.out is untouched.
      { key: 'app', label: `app: ${app}`, command: 'sh', args: ['-c', app], env: { CDKTF_OUTDIR: outdir } },
      { key: 'cdktf', label: 'cdktf synth (npm run synth)', command: bin('cdktf'), args: ['synth', '--output', outdir] },
    ];
    const runs = new Map<string, TreeRun[]>(subjects.map((subject) => [subject.key, []]));
    for (let repetition = 1; repetition <= REPETITIONS; repetition += 1) {
      for (const subject of subjects) {
        const env = { ...process.env, CHECKPOINT_DISABLE: '1', ...subject.env };
        const run = await measureTree(subject.command, subject.args, { cwd: REPO_ROOT, env, timeoutMs: TIMEOUT_MS });
        if (run.exitCode !== 0) throw new Error(`${subject.label} exited with ${run.exitCode}:\n${run.output.slice(-2000)}`);
        runs.get(subject.key)!.push(run);
        context.progress(`synth ${repetition}/${REPETITIONS}: ${subject.label} ${round(run.wallMs / 1000)} s, peak ${round(run.peakTreeRssMiB)} MiB over ${run.processes} processes`);
      }
    }

    const figures = Object.fromEntries(
      subjects.map((subject) => {
        const list = runs.get(subject.key)!;
        return [
          subject.key,
          {
            label: subject.label,
            wallMs: median(list.map((run) => run.wallMs)),
            peakTreeRssMiB: median(list.map((run) => run.peakTreeRssMiB)),
            peakProcessRssMiB: median(list.map((run) => run.peakProcessRssMiB)),
            processes: median(list.map((run) => run.processes)),
            runs: list.map(({ output: _output, ...run }) => run),
          },
        ];
      }),
    );
    const baseline = figures.baseline!;
    const table: Table = {
      title: `Synth: wall time and peak memory of the process tree (${REPETITIONS === 1 ? 'one run each' : `median of ${REPETITIONS}`})`,
      columns: ['command', 'wall s', 'x baseline', 'peak tree RSS MiB', 'largest process MiB', 'processes'],
      rows: subjects.map((subject) => {
        const figure = figures[subject.key]!;
        return [subject.label, round(figure.wallMs / 1000), `${round(figure.wallMs / baseline.wallMs)}x`, round(figure.peakTreeRssMiB), round(figure.peakProcessRssMiB), figure.processes];
      }),
      note: 'CHECKPOINT_DISABLE=1; the app bundles the five functions (esbuild) before synthesizing; peak tree RSS is the largest sum of VmRSS over the tree at one 50 ms poll',
    };
    const targets: Target[] = (['cdktf', 'app'] as const).flatMap((key) => {
      const figure = figures[key]!;
      const timeRatio = figure.wallMs / baseline.wallMs;
      return [
        { name: `${figure.label}: wall time / baseline`, target: `<= ${TARGET_TIME_RATIO}x`, actual: `${round(timeRatio)}x`, met: timeRatio <= TARGET_TIME_RATIO },
        { name: `${figure.label}: peak tree RSS`, target: `< ${TARGET_PEAK_MIB} MiB`, actual: `${round(figure.peakTreeRssMiB)} MiB`, met: figure.peakTreeRssMiB < TARGET_PEAK_MIB },
      ];
    });
    return { tables: [table], targets, figures };
  },
};
