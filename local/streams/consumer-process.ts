/**
 * The local stream consumer in a process of its own, for the soak: killing it with SIGKILL
 * is a real crash (no checkpoint written for the batch in flight, summaries maybe moved),
 * after which a new one must resume from the checkpoint file without losing or doubling
 * anything. The parent talks to it over the IPC channel of `fork`: the child sends its
 * status and log lines; SIGTERM stops it cleanly.
 *
 * Same consumer as `npm start`'s ({@link createLocalStreamConsumer}), same files.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { streamFunctionNamed } from '../../functions/catalog';
import type { FaultKind, FaultRates } from '../faults';
import type { LocalTargets } from '../lambda';
import type { StreamConsumerStatus } from './consumer';

export interface ConsumerProcessOptions {
  /** The stream function of the catalog to run. */
  functionName: string;
  targets: LocalTargets;
  dataDir: string;
  /** DynamoDB faults in the child's function client. */
  faults?: FaultRates;
  logLevel?: string;
  /**
   * The longest pause between retries of a failed batch (Lambda's backoff, up to 4 s here, by
   * default). A test that injects faults caps it: it proves the retries, not the waiting.
   */
  retryDelayCapMs?: number;
  /** The consumer's log lines, and the function's (structured JSON lines at `logLevel`). */
  log?: (line: string) => void;
}

type ChildMessage =
  | { type: 'status'; status: StreamConsumerStatus; faults: Record<FaultKind, number> }
  | { type: 'log'; line: string }
  | { type: 'failed'; message: string };

export interface ConsumerProcess {
  pid: number;
  /** The latest status the child sent, once it has started. */
  status(): StreamConsumerStatus | undefined;
  /** Faults injected in the child so far. */
  faults(): Record<FaultKind, number> | undefined;
  /** SIGKILL: no clean-up of any kind. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM: the batch in flight finishes and the checkpoint is written. */
  stop(): Promise<void>;
}

const STATUS_EVERY_MS = 250;

/** Forks the consumer; resolves once it has read the stream once (or rejects with why it could not). */
export function startConsumerProcess(options: ConsumerProcessOptions): Promise<ConsumerProcess> {
  const child: ChildProcess = fork(__filename, [JSON.stringify({ ...options, log: undefined })], {
    execArgv: ['--import', 'tsx'],
    // The function's own log lines (stdout, stderr) reach the parent as log lines too.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => options.log?.(line));
  }
  let latest: Extract<ChildMessage, { type: 'status' }> | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  const handle: ConsumerProcess = {
    pid: child.pid!,
    status: () => latest?.status,
    faults: () => latest?.faults,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
  return new Promise((resolve, reject) => {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'log') options.log?.(message.line);
      else if (message.type === 'failed') reject(new Error(`stream consumer process: ${message.message}`));
      else {
        latest = message;
        resolve(handle);
      }
    });
    void exited.then(() => reject(new Error(`stream consumer process exited (${child.exitCode ?? child.signalCode}) before it started`)));
  });
}

async function runChild(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ConsumerProcessOptions;
  const send = (message: ChildMessage) => process.send?.(message);
  // Loaded here, not at the top: the parent needs none of it.
  const { prepareLocalFunctions } = await import('../lambda');
  const { createLocalStreamConsumer } = await import('../runtime');
  const { injectedFaults } = await import('../faults');
  const { defaultRetryDelayMs } = await import('./consumer');
  const cap = options.retryDelayCapMs;
  prepareLocalFunctions({ targets: options.targets, logLevel: options.logLevel, faults: options.faults });
  const consumer = await createLocalStreamConsumer(streamFunctionNamed(options.functionName), {
    ...options.targets,
    dataDir: options.dataDir,
    log: (line) => send({ type: 'log', line }),
    ...(cap === undefined ? {} : { retryDelayMs: (attempt: number) => Math.min(cap, defaultRetryDelayMs(attempt)) }),
  });
  const report = () => send({ type: 'status', status: consumer.status(), faults: injectedFaults() });
  await consumer.start();
  report();
  const timer = setInterval(report, STATUS_EVERY_MS);
  const stop = async () => {
    clearInterval(timer);
    await consumer.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  // The parent is gone (crashed or killed): nobody needs this consumer any more.
  process.once('disconnect', () => void stop());
}

if (require.main === module) {
  runChild().catch((error: unknown) => {
    process.send?.({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });
}
