/**
 * Fault injection for local runs: a DynamoDB client middleware that, at configured rates,
 * answers a request with throttling, a transaction conflict or a timeout instead of (or
 * after) sending it. It exists to prove that the code survives what DynamoDB does under
 * load. It is part of the emulator, not of the functions: the local runtime installs it on
 * the functions' shared client (`sharedDocumentClient`) when asked to, so no deployed
 * bundle contains it and no setting can turn it on in AWS.
 *
 * `CRUDDUR_FAULTS="throttle=0.05,conflict=0.05,timeout=0.02,delay=300"` (`npm start`, or the
 * soak's `--fault-rates`):
 * - `throttle`: the request is not sent; ProvisionedThroughputExceededException or
 *   ThrottlingException (the SDK retries both with backoff).
 * - `conflict`: TransactWriteItems only (the one request DynamoDB cancels for conflicts); not
 *   sent; TransactionCanceledException with a TransactionConflict reason on one item.
 * - `timeout`: a TimeoutError after `delay` ms, half the time before the request is sent
 *   (nothing written), half the time after DynamoDB answered (written, answer lost), which is
 *   the case that tests whether a retried write is applied twice.
 *
 * The middleware sits inside the SDK's retry loop, so the SDK's own retries see the faults as
 * they would see DynamoDB's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ProvisionedThroughputExceededException, ThrottlingException, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConfigurationError } from '../functions/errors';

export const FAULTS_ENV_VAR = 'CRUDDUR_FAULTS';

export interface FaultRates {
  /** Probability (0-1) per request attempt. */
  throttle: number;
  conflict: number;
  timeout: number;
  /** How long a timeout takes, in ms. */
  delayMs: number;
}

export type FaultKind = 'throttle' | 'conflict' | 'timeout-before-send' | 'timeout-after-write';

const RATE_NAMES = ['throttle', 'conflict', 'timeout'] as const;
const DEFAULT_DELAY_MS = 300;

/**
 * Parses `throttle=0.05,conflict=0.05,timeout=0.02[,delay=300]`.
 * @throws ConfigurationError naming the bad part.
 */
export function parseFaultRates(spec: string): FaultRates {
  const rates: FaultRates = { throttle: 0, conflict: 0, timeout: 0, delayMs: DEFAULT_DELAY_MS };
  for (const part of spec
    .split(',')
    .map((piece) => piece.trim())
    .filter(Boolean)) {
    const [name, raw, extra] = part.split('=');
    const value = Number(raw);
    if (extra !== undefined || raw === undefined || raw.trim() === '' || !Number.isFinite(value)) {
      throw new ConfigurationError(`${FAULTS_ENV_VAR}: "${part}" is not name=number`);
    }
    if (name === 'delay') {
      if (value < 0 || value > 60_000) throw new ConfigurationError(`${FAULTS_ENV_VAR}: delay must be 0-60000 ms, got ${raw}`);
      rates.delayMs = value;
    } else if ((RATE_NAMES as readonly string[]).includes(name!)) {
      if (value < 0 || value > 1) throw new ConfigurationError(`${FAULTS_ENV_VAR}: ${name} must be a rate between 0 and 1, got ${raw}`);
      rates[name as (typeof RATE_NAMES)[number]] = value;
    } else {
      throw new ConfigurationError(`${FAULTS_ENV_VAR}: unknown fault "${name}" (known: ${RATE_NAMES.join(', ')}, delay)`);
    }
  }
  if (rates.throttle + rates.conflict + rates.timeout > 1) throw new ConfigurationError(`${FAULTS_ENV_VAR}: the rates add up to more than 1`);
  return rates;
}

/** The rates as `CRUDDUR_FAULTS` spells them. */
export function formatFaultRates(rates: FaultRates): string {
  return `throttle=${rates.throttle},conflict=${rates.conflict},timeout=${rates.timeout},delay=${rates.delayMs}`;
}

/** Whether `endpoint` is this machine (the only place faults may be injected). */
export function isLoopbackEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

const injected: Record<FaultKind, number> = { throttle: 0, conflict: 0, 'timeout-before-send': 0, 'timeout-after-write': 0 };

/** Faults injected in this process so far, by kind. */
export function injectedFaults(): Record<FaultKind, number> {
  return { ...injected };
}

function timeoutError(): Error {
  // The SDK's HTTP handler names its socket timeouts TimeoutError; the retry strategy keys on the name.
  return Object.assign(new Error('Injected fault: the request timed out'), { name: 'TimeoutError', $metadata: {} });
}

function throttlingError(): Error {
  const options = { message: 'Injected fault: throughput exceeded', $metadata: { httpStatusCode: 400 } };
  return Math.random() < 0.5 ? new ProvisionedThroughputExceededException(options) : new ThrottlingException(options);
}

function conflictError(itemCount: number): Error {
  const conflicting = Math.floor(Math.random() * Math.max(1, itemCount));
  return new TransactionCanceledException({
    message: 'Injected fault: Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: Array.from({ length: Math.max(1, itemCount) }, (_, index) =>
      index === conflicting ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' },
    ),
  });
}

/** Adds the fault middleware to `client`. */
export function installFaults(client: DynamoDBClient, rates: FaultRates, random: () => number = Math.random): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const transactItems = (args.input as { TransactItems?: unknown[] }).TransactItems;
      const isTransactWrite = context.commandName === 'TransactWriteItemsCommand';
      let roll = random();
      if ((roll -= rates.throttle) < 0) {
        injected.throttle += 1;
        throw throttlingError();
      }
      if (isTransactWrite && (roll -= rates.conflict) < 0) {
        injected.conflict += 1;
        throw conflictError(transactItems?.length ?? 1);
      }
      if ((roll -= rates.timeout) < 0) {
        if (random() < 0.5) {
          injected['timeout-before-send'] += 1;
          await sleep(rates.delayMs);
          throw timeoutError();
        }
        await next(args);
        injected['timeout-after-write'] += 1;
        await sleep(rates.delayMs);
        throw timeoutError();
      }
      return next(args);
    },
    // finalizeRequest, low: inside the SDK's retry middleware (same step, high priority).
    { step: 'finalizeRequest', priority: 'low', name: 'cruddurFaultInjection' },
  );
}

/** A client's endpoint is not this machine: faults are refused. */
export class FaultsRefusedError extends Error {
  override readonly name = 'FaultsRefusedError';
}

/**
 * Installs faults at `rates` on a client of the loopback DynamoDB endpoint `endpoint`.
 * @throws FaultsRefusedError for any other endpoint: faults exist to test the code here,
 * never to disturb a real table.
 */
export function installLocalFaults(client: DynamoDBClient, endpoint: string | undefined, rates: FaultRates): void {
  if (!isLoopbackEndpoint(endpoint)) throw new FaultsRefusedError(`Faults are only injected against a loopback DynamoDB endpoint, not ${endpoint ?? 'AWS'}`);
  installFaults(client, rates);
}
