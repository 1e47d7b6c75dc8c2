/**
 * A bundle run as a Lambda container would run it: a fresh `node` process with only the
 * environment Lambda would set, importing the bundle as the runtime imports an .mjs handler and
 * invoking it once. The child prints one `SAMPLE {json}` line: milliseconds since its start
 * at each step, its memory, and the handler's answer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export interface BundleSample {
  /** Node's own start before the script ran (the same for every bundle). */
  bootMs: number;
  /** `import()` of the bundle, module top level included. */
  importMs: number;
  /** The first invocation: clients connect, settings and secrets are read. */
  invokeMs: number;
  rssMiB: number;
  /** What the handler answered. */
  result: unknown;
}

// Top-level await in an ES module. Once it has answered, the script exits (the cold-start
// benchmark) or stays, as a container waits for its next event (the scale benchmark).
const CHILD_SCRIPT = `
const bootMs = performance.now();
const { handler } = await import(process.env.BENCH_BUNDLE_URL);
const imported = performance.now();
const context = JSON.parse(process.env.BENCH_CONTEXT);
const deadline = Date.now() + 10000;
context.getRemainingTimeInMillis = () => deadline - Date.now();
const result = await handler(JSON.parse(process.env.BENCH_EVENT), context);
const done = performance.now();
process.stdout.write('SAMPLE ' + JSON.stringify({ bootMs, importMs: imported - bootMs, invokeMs: done - imported, rssMiB: process.memoryUsage().rss / 2 ** 20, result }) + '\\n');
if (process.env.BENCH_STAY === '1') setInterval(() => {}, 2 ** 30);
else process.exit(0);
`;

export interface BundleRun {
  child: ChildProcess;
  /** Resolves with the sample once the handler has answered; rejects if the process fails first. */
  sample: Promise<BundleSample>;
}

/** Whether a handler's answer is a failure: an HTTP status of 400 or more, or a stream batch's failed records. */
export function answerFailed(result: unknown): boolean {
  const answer = result as { statusCode?: number; batchItemFailures?: unknown[] } | null | undefined;
  return (answer?.statusCode ?? 0) >= 400 || (answer?.batchItemFailures?.length ?? 0) > 0;
}

/**
 * Starts `bundleFile` in a fresh process and invokes it once with `event`. With `stay`, the
 * process lives on after answering, until it is killed.
 */
export function runBundle(options: { bundleFile: string; event: unknown; context: unknown; env: Record<string, string>; stay?: boolean }): BundleRun {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT], {
    // Only what Lambda would set: no inherited settings, no tsx loader.
    env: {
      PATH: process.env.PATH ?? '',
      ...options.env,
      BENCH_BUNDLE_URL: pathToFileURL(options.bundleFile).href,
      BENCH_EVENT: JSON.stringify(options.event),
      BENCH_CONTEXT: JSON.stringify(options.context),
      BENCH_STAY: options.stay ? '1' : '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sample = new Promise<BundleSample>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('SAMPLE '));
      if (line === undefined || settled || !stdout.includes('\n', stdout.indexOf(line))) return;
      settled = true;
      resolve(JSON.parse(line.slice('SAMPLE '.length)) as BundleSample);
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      reject(new Error(`${options.bundleFile} ${why}\n${stderr}${stdout}`.trim()));
    };
    child.on('error', (error) => fail(`could not start: ${error.message}`));
    // 'close', not 'exit': by then the output has been read to its end.
    child.on('close', (code, signal) => fail(`exited (${signal ?? code}) before answering`));
  });
  return { child, sample };
}
