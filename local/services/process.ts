/**
 * What every local service's process shares: ports (free ones, taken ones), waiting for a
 * service to answer, cancelling a start-up, and stopping a child process.
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { ServiceUnavailableError } from '../../functions/errors';

/** A started local service. */
export interface RunningService {
  /** URL clients connect to. */
  url: string;
  stop(): Promise<void>;
}

export const LOCAL_HOST = '127.0.0.1';

/**
 * How long a service may take to answer after its start: a ceiling, not a wait. Generous:
 * on a 2-core machine busy with other work, the JVM of DynamoDB Local and PGlite's start
 * (WASM compile and initdb, about 18 s of CPU) have each been seen to take over 3 minutes.
 */
export const STARTUP_TIMEOUT_MS = 300_000;

/*
 * Ports handed to another process are chosen below the ephemeral range (Linux 32768-60999,
 * macOS 49152-65535). A port the OS picks for listen(0) comes from that range, which the OS
 * also draws outgoing connections' local ports from: between the check here and the child's
 * own listen, any client connection on the machine (a health probe, a test's HTTP request)
 * may take it, and the child fails with EADDRINUSE. Below the range only another listener
 * can, so each process walks its own block of ports (by process id: sibling workers differ)
 * and skips any in use.
 */
const PORT_BASE = 20_000;
const PORT_BLOCK = 64;
const PORT_BLOCKS = 187; // 20000-31967
let portsHandedOut = 0;

/** Listens on `port` for a moment: undefined when it could, else why not (EADDRINUSE: something listens there). */
function listenError(port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', resolve);
    server.listen(port, LOCAL_HOST, () => server.close(() => resolve(undefined)));
  });
}

/** A port that is free right now, never handed out before by this process (for a service to listen on). */
export async function getFreePort(): Promise<number> {
  const first = (process.pid % PORT_BLOCKS) * PORT_BLOCK;
  while (portsHandedOut < PORT_BLOCK * PORT_BLOCKS) {
    const port = PORT_BASE + ((first + portsHandedOut++) % (PORT_BLOCK * PORT_BLOCKS));
    if ((await listenError(port)) === undefined) return port;
  }
  throw new ServiceUnavailableError(`No free port between ${PORT_BASE} and ${PORT_BASE + PORT_BLOCK * PORT_BLOCKS - 1}`);
}

/**
 * Fails with a message naming the variable to change when `port` is taken, before a
 * child process fails with something less clear.
 */
export async function assertPortFree(port: number, { label, envVar }: { label: string; envVar: string }): Promise<void> {
  const error = await listenError(port);
  if (error?.code === 'EADDRINUSE')
    throw new ServiceUnavailableError(`Port ${port} for ${label} is already in use: stop what uses it or set ${envVar} to another port`);
  if (error) throw error;
}

/** Thrown when a start-up is cancelled (Ctrl-C while the services start). */
class StartAbortedError extends Error {
  constructor(what: string) {
    super(`${what}: start-up cancelled`);
    this.name = 'StartAbortedError';
  }
}

/** For {@link waitUntil}: the child's failure, or a cancellation through `signal`. */
export function failureOrAbort(what: string, failure: () => Error | undefined, signal?: AbortSignal): () => Error | undefined {
  return () => failure() ?? (signal?.aborted ? new StartAbortedError(what) : undefined);
}

/**
 * Spawn options every service child shares. `detached`: its own process group, so a Ctrl-C
 * in the terminal reaches `npm start` alone, which stops the functions before the services
 * they use (otherwise the services die first, under the functions' open connections).
 */
export const SERVICE_SPAWN_OPTIONS = { detached: true } as const;

/**
 * Stops a service's child process: SIGTERM, so it can flush and close, then SIGKILL after
 * `graceMs`. Resolves once it has exited (at once if it already has).
 */
export function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const forceKill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(forceKill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Polls `probe` until it resolves, or fails after `timeoutMs` with `what` in the message. */
export async function waitUntil(
  what: string,
  probe: () => Promise<unknown>,
  timeoutMs: number,
  isAborted: () => Error | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const aborted = isAborted();
    if (aborted) throw aborted;
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new ServiceUnavailableError(`${what} did not become ready within ${timeoutMs} ms`, { cause: lastError });
}
