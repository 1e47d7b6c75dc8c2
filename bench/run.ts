/**
 * `npm run bench [-- <name>...]`: runs the benchmarks (all, or those named), prints a table
 * per benchmark and writes its figures to `bench/results/<name>.json`. Loopback only,
 * against local services it starts on free ports, so it runs beside `npm start`.
 */
import path from 'node:path';
import { runAsMain, UsageError, type ScriptContext, type ScriptSpec } from '../scripts/lib/cli';
import { writeResult } from './lib/figures';
import { createScratchDir, formatTable, formatTargets, sharedServices, type Benchmark } from './lib/harness';

/** Every benchmark, in the order `npm run bench` runs them; each is `bench/<name>.ts`. */
export const BENCHMARKS = ['stream', 'capacity', 'api', 'cold-start', 'scale', 'push', 'devloop'] as const;

const options = {} as const;
export const spec: ScriptSpec<typeof options> = {
  name: 'bench',
  summary: `Run the benchmarks (${BENCHMARKS.join(', ')}) or those named, each against a baseline measured in the same run; figures go to bench/results/.`,
  options,
  usage: ['<name>...     only these benchmarks'],
  allowPositionals: true,
};

// Benchmarks run handlers in this process: their business metrics (EMF lines on stdout, for
// CloudWatch) would interleave with the tables. Read when the first metric is counted.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

async function load(name: string): Promise<Benchmark> {
  const module = (await import(path.join(__dirname, `${name}.ts`))) as { benchmark?: Benchmark };
  if (!module.benchmark) throw new Error(`bench/${name}.ts exports no benchmark`);
  return module.benchmark;
}

export async function main({ positionals, prod, out }: ScriptContext<typeof options>): Promise<number> {
  if (prod) throw new UsageError('benchmarks run against the local services only');
  const unknown = positionals.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new UsageError(`unknown benchmark ${unknown.join(', ')}: choose from ${BENCHMARKS.join(', ')}`);
  const names = positionals.length > 0 ? BENCHMARKS.filter((name) => positionals.includes(name)) : [...BENCHMARKS];

  const scratch = createScratchDir();
  const progress = (line: string) => out.error(`  ${line}`);
  const services = sharedServices(scratch.dir, progress);
  const began = Date.now();
  let missed = 0;
  try {
    for (const [index, name] of names.entries()) {
      const benchmark = await load(name);
      out.error(`[${index + 1}/${names.length}] ${name}: ${benchmark.summary}`);
      const started = Date.now();
      const result = await benchmark.run({ progress, services: services.get, scratchDir: scratch.dir });
      const seconds = (Date.now() - started) / 1000;
      if ('skipped' in result) {
        out.error(`  ${name} skipped: ${result.skipped}`);
        missed += 1;
        continue;
      }
      out.log(['', ...result.tables.map(formatTable), formatTargets(name, result.targets)].filter((part) => part !== undefined).join('\n\n'));
      missed += result.targets.filter((target) => !target.met).length;
      const file = writeResult(name, { seconds, command: `npm run bench -- ${name}`, ...result });
      out.error(`  ${name} took ${seconds.toFixed(1)} s; figures in ${path.relative(process.cwd(), file)}`);
    }
  } finally {
    await services.stop();
    scratch.remove();
  }
  out.error(
    `\nBenchmarks done in ${((Date.now() - began) / 1000).toFixed(1)} s; ${missed === 0 ? 'every target met' : `${missed} target(s) missed (see the tables)`}.`,
  );
  // Figures, not assertions: a missed target is reported, not a failure of the run.
  return 0;
}

if (require.main === module) runAsMain(spec, main);
