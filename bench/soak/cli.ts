/**
 * `npm run soak`: simulated users exchange messages through the HTTP API for a bounded
 * time (2 minutes, 50 users by default), then the table is checked: every accepted message
 * stored exactly once, summaries at each group's newest message, one group per pair, no
 * server errors. Exits 1 on any violation. See bench/soak/soak.ts.
 */
import { parseFaultRates, type FaultRates } from '../../local/faults';
import { runAsMain, UsageError, type ScriptContext, type ScriptSpec } from '../../scripts/lib/cli';
import { newSeed } from '../lib/random';
import { runSoak } from './soak';

/** The fault rates of `--faults` without `--fault-rates`. */
export const DEFAULT_FAULT_RATES = 'throttle=0.05,conflict=0.05,timeout=0.02,delay=300';

const options = {
  duration: { type: 'string' },
  users: { type: 'string' },
  think: { type: 'string' },
  api: { type: 'string' },
  faults: { type: 'boolean' },
  retries: { type: 'boolean' },
  'retry-cap': { type: 'string' },
  'fault-rates': { type: 'string' },
  'reuse-services': { type: 'boolean' },
  seed: { type: 'string' },
} as const;

export const spec: ScriptSpec<typeof options> = {
  name: 'soak',
  summary:
    'Load the system with simulated users (C and D messages, D races from both sides of a new pair, A and B reads) for a bounded time, ' +
    'wait for the stream to drain, and check the table: accepted messages stored exactly once, summaries at the newest message, ' +
    'one group per pair, no 5xx. Loopback only. Exits 1 on any violation.',
  options,
  usage: [
    '--duration <s>        seconds of load (default 120)',
    '--users <n>           simulated users, each with a real access token (default 50)',
    "--think <s>           mean pause between one user's actions (default 10: 50 users offer ~5 requests/s)",
    '--api <url>           soak a running npm start (e.g. http://127.0.0.1:4567) instead of a runtime of its own;',
    '                      its DynamoDB Local is found through DYNAMODB_PORT like the other scripts',
    '--retries             retry mode: every POST carries an Idempotency-Key and is sent again after no answer, a 5xx or a 429;',
    '                      the first POST of each person and every fifth after it loses its answer on purpose (sent whole,',
    '                      the connection closed unread); each message must still be stored once',
    '--faults              fault mode: DynamoDB faults in the functions (CRUDDUR_FAULTS), the stream consumer',
    `                      killed with SIGKILL halfway and restarted, poison records; rates ${DEFAULT_FAULT_RATES}`,
    '--fault-rates <spec>  other rates, e.g. throttle=0.1,conflict=0.1,timeout=0.05,delay=500 (implies --faults)',
    '--retry-cap <ms>      longest pause of the stream consumer between retries (default: backoff up to 4 s, as Lambda)',
    '--seed <n>            the seed of every choice the simulated people make (default: a new one, printed)',
    '--reuse-services      use the local services already running at DYNAMODB_PORT, POSTGRES_PORT, COGNITO_PORT',
    '                      (with a table of its own) instead of starting them',
  ],
};

function positiveInteger(value: string | undefined, fallback: number, name: string, max: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max}, got "${value}"`);
  return parsed;
}

export async function main({ prod, targets, values, out }: ScriptContext<typeof options>): Promise<number> {
  if (prod) throw new UsageError('the soak runs against this machine only: it writes thousands of messages and injects faults');
  const durationMs = positiveInteger(values.duration, 120, 'duration', 3600) * 1000;
  const users = positiveInteger(values.users, 50, 'users', 500);
  const think = values.think === undefined ? undefined : Number(values.think);
  if (think !== undefined && !(Number.isFinite(think) && think >= 0 && think <= 600))
    throw new UsageError(`--think must be 0 to 600 seconds, got "${values.think}"`);
  if (values.api !== undefined) {
    let host: string;
    try {
      host = new URL(values.api).hostname;
    } catch {
      throw new UsageError(`--api must be a URL such as http://127.0.0.1:4567, got "${values.api}"`);
    }
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new UsageError(`--api must be on this machine (loopback), got ${host}`);
    if (values['reuse-services']) throw new UsageError('--reuse-services and --api exclude each other');
  }
  const retryCap = values['retry-cap'] === undefined ? undefined : Number(values['retry-cap']);
  if (retryCap !== undefined && !(Number.isInteger(retryCap) && retryCap >= 0 && retryCap <= 60_000))
    throw new UsageError(`--retry-cap must be 0 to 60000 milliseconds, got "${values['retry-cap']}"`);
  if (retryCap !== undefined && values.api !== undefined) throw new UsageError("--retry-cap applies to the soak's own stream consumer; drop --api");
  let faults: FaultRates | undefined;
  if (values.faults || values['fault-rates'] !== undefined) {
    try {
      faults = parseFaultRates(values['fault-rates'] ?? DEFAULT_FAULT_RATES);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (values.api !== undefined) throw new UsageError("--faults needs the soak's own runtime (it kills and restarts the stream consumer); drop --api");
  }
  const seed = values.seed === undefined ? newSeed() : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new UsageError(`--seed must be a whole number from 0 to ${0xffffffff}, got "${values.seed}"`);
  const { violations } = await runSoak({
    durationMs,
    users,
    thinkMs: think === undefined ? undefined : think * 1000,
    apiUrl: values.api,
    reuseServices: values['reuse-services'],
    targets,
    faults,
    retries: values.retries ? { attempts: 6, loseEvery: 5 } : undefined,
    seed,
    ...(retryCap === undefined ? {} : { retryDelayCapMs: retryCap }),
    out,
  });
  return violations.length === 0 ? 0 : 1;
}

if (require.main === module) runAsMain(spec, main);
