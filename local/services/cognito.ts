/**
 * A local Cognito user pool: `cognito-local` as a child process (data under a directory),
 * behind a small front that makes ListUsers paginate like AWS (at most 60 users a page,
 * `PaginationToken`), which cognito-local does not do. Without it, nothing local could
 * show the original's defect 8 (only the first 60 users were updated).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ServiceUnavailableError } from '../../functions/errors';

import { LOCAL_HOST, failureOrAbort, type RunningService, getFreePort, SERVICE_SPAWN_OPTIONS, STARTUP_TIMEOUT_MS, stopChild, waitUntil } from './process';

/** AWS's page size limit for ListUsers. */
const LIST_USERS_MAX_PAGE = 60;

export async function startCognitoLocal(options: { port: number; dataDir: string; signal?: AbortSignal }): Promise<RunningService> {
  const publicUrl = `http://${LOCAL_HOST}:${options.port}`;
  const innerPort = await getFreePort();
  const configDir = path.join(options.dataDir, '.cognito');
  mkdirSync(configDir, { recursive: true });
  // Tokens name the public URL as issuer, so verifiers fetch the JWKS through the front.
  writeFileSync(
    path.join(configDir, 'config.json'),
    JSON.stringify({ TokenConfig: { IssuerDomain: publicUrl }, UserPoolDefaults: { UsernameAttributes: [] } }, null, 2),
  );

  const require = createRequire(__filename);
  const entry = path.join(path.dirname(require.resolve('cognito-local/package.json')), 'lib', 'bin', 'start.js');
  const child = spawn(process.execPath, [entry], {
    ...SERVICE_SPAWN_OPTIONS,
    cwd: options.dataDir,
    env: { ...process.env, PORT: String(innerPort), HOST: LOCAL_HOST, DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let output = '';
  let failure: Error | undefined;
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.on('error', (error) => (failure = new ServiceUnavailableError(`cognito-local could not start: ${error.message}`)));
  child.on('exit', (code) => (failure ??= new ServiceUnavailableError(`cognito-local exited with code ${code}: ${output.trim().slice(-800)}`)));

  const front = http.createServer((request, response) => forward(request, response, innerPort));
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(options.port, LOCAL_HOST, () => resolve());
  });

  const stop = async () => {
    await new Promise<void>((resolve) => front.close(() => resolve()));
    front.closeAllConnections();
    await stopChild(child, 5000);
  };

  try {
    await waitUntil(
      'cognito-local',
      () => fetchOk(`${publicUrl}/health`),
      STARTUP_TIMEOUT_MS,
      failureOrAbort('cognito-local', () => failure, options.signal),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: publicUrl, stop };
}

async function fetchOk(url: string): Promise<void> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

async function forward(request: http.IncomingMessage, response: http.ServerResponse, innerPort: number): Promise<void> {
  try {
    const body = await readBody(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    if (target.endsWith('.ListUsers')) return await listUsersPaginated(request, body, response, innerPort);
    const upstream = await send(request.method ?? 'GET', request.url ?? '/', request.headers, body, innerPort);
    response.writeHead(upstream.status, upstream.headers);
    response.end(upstream.body);
  } catch (error) {
    response.writeHead(502, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ __type: 'InternalErrorException', message: `cognito-local front: ${(error as Error).message}` }));
  }
}

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function send(method: string, url: string, headers: http.IncomingHttpHeaders, body: Buffer, port: number): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const forwarded = { ...headers, host: `${LOCAL_HOST}:${port}`, 'content-length': String(body.length) };
    const upstream = http.request({ host: LOCAL_HOST, port, method, path: url, headers: forwarded }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function cognitoError(response: http.ServerResponse, type: string, message: string): void {
  response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify({ __type: type, message }));
}

/** ListUsers as AWS pages it: `Limit` 1–60 (default 60) and an opaque `PaginationToken`. */
async function listUsersPaginated(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse, innerPort: number): Promise<void> {
  const input = JSON.parse(body.toString('utf8') || '{}') as { Limit?: number; PaginationToken?: string; [key: string]: unknown };
  const { Limit = LIST_USERS_MAX_PAGE, PaginationToken, ...rest } = input;
  if (!Number.isInteger(Limit) || Limit < 1 || Limit > LIST_USERS_MAX_PAGE) {
    return cognitoError(response, 'InvalidParameterException', `Limit must be between 1 and ${LIST_USERS_MAX_PAGE}`);
  }
  let offset = 0;
  if (PaginationToken !== undefined) {
    offset = Number(Buffer.from(String(PaginationToken), 'base64url').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0) return cognitoError(response, 'InvalidParameterException', 'Invalid PaginationToken');
  }
  const upstream = await send('POST', request.url ?? '/', request.headers, Buffer.from(JSON.stringify(rest)), innerPort);
  if (upstream.status !== 200) {
    response.writeHead(upstream.status, upstream.headers);
    return void response.end(upstream.body);
  }
  const all = (JSON.parse(upstream.body.toString('utf8')) as { Users?: unknown[] }).Users ?? [];
  const page = all.slice(offset, offset + Limit);
  const next = offset + Limit < all.length ? Buffer.from(String(offset + Limit)).toString('base64url') : undefined;
  response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify({ Users: page, ...(next ? { PaginationToken: next } : {}) }));
}
