/**
 * A closed-loop load generator: `concurrency` workers each issue one request, wait for its
 * answer and issue the next, for a fixed time. The same loop drives the HTTP API and the
 * SDK floor, so both sides pay the same client-side overhead per request.
 */
import http from 'node:http';
import { elapsedMs, percentile } from './stats';

export interface LoadResult {
  /** Per-request latencies, milliseconds. */
  latencies: number[];
  seconds: number;
  errors: number;
  /** The first error's message, for the progress line. */
  firstError?: string;
}

export interface LoadSummary {
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  rps: number;
}

/** Runs `request` in a closed loop with `concurrency` workers for `durationMs`. */
export async function closedLoop(request: () => Promise<void>, concurrency: number, durationMs: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const began = process.hrtime.bigint();
  const deadline = began + BigInt(Math.round(durationMs * 1e6));
  async function worker(): Promise<void> {
    while (process.hrtime.bigint() < deadline) {
      const start = process.hrtime.bigint();
      try {
        await request();
        latencies.push(elapsedMs(start));
      } catch (error) {
        errors += 1;
        firstError ??= (error as Error).message;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, seconds: elapsedMs(began) / 1000, errors, firstError };
}

/** Pools the results of several rounds of one side of a cell. */
export function summarize(results: readonly LoadResult[]): LoadSummary {
  const latencies = results.flatMap((result) => result.latencies);
  const seconds = results.reduce((sum, result) => sum + result.seconds, 0);
  return {
    requests: latencies.length,
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    rps: latencies.length / seconds,
  };
}

export interface HttpTarget {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** A fresh body per request (e.g. a new message text). */
  body?: () => string;
}

/**
 * One keep-alive HTTP request that resolves once the whole response is read and rejects
 * on any status but 200, so an error page never counts as a fast answer. A reset of a
 * reused connection is the server closing it as idle just as the request went out (the
 * request never reached it): sent again once on a fresh connection, as Node's docs advise.
 */
export function httpRequester(target: HttpTarget, agent: http.Agent): () => Promise<void> {
  const url = new URL(target.url);
  const send = (body: string | undefined, retried: boolean): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const headers: Record<string, string> = { ...target.headers };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      const request = http.request(
        { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: target.method, headers },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            if (response.statusCode === 200) resolve();
            else reject(new Error(`${target.method} ${url.pathname} answered ${response.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`));
          });
          response.on('error', reject);
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (!retried && request.reusedSocket && error.code === 'ECONNRESET') send(body, true).then(resolve, reject);
        else reject(error);
      });
      request.end(body);
    });
  return () => send(target.body?.(), false);
}
