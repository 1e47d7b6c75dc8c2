/**
 * The local HTTP API: an HTTP server doing what the deployed API Gateway HTTP API does in
 * front of the functions. It routes by the function catalog, answers CORS preflights,
 * refuses requests without a valid access token with a 401 before any function runs,
 * builds the payload 2.0 event and calls the route's handler in this process, and maps
 * the result back. One log line per request: method, path, status, milliseconds.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ACCESS_TOKEN_SCOPES, HTTP_FUNCTIONS, type HttpFunction } from '../../functions/catalog';
import { ServiceUnavailableError } from '../../functions/errors';
import { AuthorizationError, bearerToken, type Authorizer, type VerifiedToken } from './auth';
import { GATEWAY_MESSAGES, gatewayError, toGatewayResponse, type GatewayResponse } from './responses';
import { LOCAL_CORS, corsHeaders, isPreflight, preflightResponse, type CorsConfiguration } from './cors';
import { buildHttpEvent, gatewayRequestId, type HttpApiEvent, type RawRequest } from './http-event';
import { matchRoute, splitUrl } from './routes';
import { LOCAL_HOST } from '../services/process';
import { invokeFunction, lambdaContext, loadHandler, type LambdaHandler } from '../lambda';
import type { LocalWebSocketApi } from './websocket';

/** The gateway's own body limit; the functions enforce their much smaller one (16 KiB) themselves. */
const GATEWAY_MAX_BODY_BYTES = 1024 * 1024;

export type HttpHandler = LambdaHandler<HttpApiEvent, unknown>;

export interface GatewayOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  authorizer: Authorizer;
  routes?: readonly HttpFunction[];
  /** The route's handler; by default the catalog entry's `handler` export. */
  handlerFor?: (fn: HttpFunction) => Promise<HttpHandler>;
  cors?: CorsConfiguration;
  maxBodyBytes?: number;
  log?: (line: string) => void;
  /** The WebSocket API served beside the HTTP API on the same port (`/ws`); none by default. */
  websocket?: LocalWebSocketApi;
}

export interface RunningGateway {
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface Outcome {
  response: GatewayResponse;
  /** Why, for the log line (never for the client). */
  note?: string;
}

/**
 * Text taken from a request, a token or a verifier, made safe for a header or a log line:
 * control characters and anything outside printable ASCII become `?` (a terminal would obey an
 * escape sequence, and Node refuses such bytes in headers).
 */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** Reads the body, or undefined once it passes `limit` (the rest is discarded). */
function readBody(request: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      request.resume();
      return resolve(undefined);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const routes = options.routes ?? HTTP_FUNCTIONS;
  const cors = options.cors ?? LOCAL_CORS;
  const limit = options.maxBodyBytes ?? GATEWAY_MAX_BODY_BYTES;
  const log = options.log ?? ((line: string) => console.log(line));
  const handlerFor = options.handlerFor ?? ((fn: HttpFunction) => loadHandler<HttpHandler>(fn));

  /** The JWT authorizer: the verified token, or the 401 that refuses the request. */
  async function authorize(raw: RawRequest): Promise<{ token: VerifiedToken } | { refusal: Outcome }> {
    // Node keeps the first of repeated headers; API Gateway joins them with a comma, which no
    // JWT survives: a request naming two callers is nobody's.
    const authorizations = (raw.rawHeaders ?? []).filter((_, index, all) => index % 2 === 0 && all[index]!.toLowerCase() === 'authorization').length;
    if (authorizations > 1) {
      return {
        refusal: {
          response: gatewayError(401, GATEWAY_MESSAGES.unauthorized, {
            'www-authenticate': 'Bearer error="invalid_token" error_description="more than one Authorization header"',
          }),
          note: 'repeated Authorization header',
        },
      };
    }
    const token = bearerToken(Array.isArray(raw.headers.authorization) ? raw.headers.authorization[0] : raw.headers.authorization);
    if (token === undefined) {
      return { refusal: { response: gatewayError(401, GATEWAY_MESSAGES.unauthorized, { 'www-authenticate': 'Bearer' }), note: 'no token' } };
    }
    let verified: VerifiedToken;
    try {
      verified = await options.authorizer.verify(token);
    } catch (error) {
      const reason = error instanceof AuthorizationError ? error.reason : `authorizer failed: ${(error as Error).message}`;
      // The reason can quote the token back, bytes and all: only what a header may carry goes out.
      const description = printable(reason).replace(/["\\]/g, "'").slice(0, 200);
      return {
        refusal: {
          response: gatewayError(401, GATEWAY_MESSAGES.unauthorized, { 'www-authenticate': `Bearer error="invalid_token" error_description="${description}"` }),
          note: reason,
        },
      };
    }
    return { token: verified };
  }

  async function answer(raw: RawRequest, requestId: string, domainName: string): Promise<Outcome> {
    if (isPreflight(raw)) return { response: preflightResponse(cors, raw) };
    const { rawPath } = splitUrl(raw.url);
    const match = matchRoute(routes, raw.method, rawPath);
    if (match === undefined) return { response: gatewayError(404, GATEWAY_MESSAGES.notFound) };

    // A public route has no authorizer: whatever Authorization header comes along is ignored.
    const verified = match.fn.auth === 'public' ? undefined : await authorize(raw);
    if (verified !== undefined && 'refusal' in verified) return verified.refusal;
    // The route's scopes, as API Gateway checks them: a valid token with none of them is forbidden (an ID token has no scope).
    if (verified !== undefined && !ACCESS_TOKEN_SCOPES.some((scope) => verified.token.scopes?.includes(scope))) {
      return { response: gatewayError(403, GATEWAY_MESSAGES.forbidden), note: `the token has none of the route's scopes (${ACCESS_TOKEN_SCOPES.join(' ')})` };
    }
    const event = buildHttpEvent({ match, request: raw, authorizer: verified?.token, requestId, domainName });
    try {
      const handler = await handlerFor(match.fn);
      const result = await invokeFunction(match.fn, handler, event, lambdaContext(match.fn));
      return { response: toGatewayResponse(result), note: match.fn.name };
    } catch (error) {
      // A function error or timeout: API Gateway shows the client nothing of it.
      log(`${match.fn.name} failed: ${(error as Error).stack ?? error}`);
      return { response: gatewayError(500, GATEWAY_MESSAGES.internalError), note: `${match.fn.name}: ${(error as Error).message}` };
    }
  }

  /** Writes the answer; one whose headers Node refuses (a function's, say) becomes a 500 instead. */
  function respond(request: http.IncomingMessage, response: http.ServerResponse, requestId: string, outcome: Outcome): Outcome {
    const origin = Array.isArray(request.headers.origin) ? request.headers.origin[0] : request.headers.origin;
    const write = ({ statusCode, headers, cookies, body }: GatewayResponse) => {
      const finalHeaders: http.OutgoingHttpHeaders = { ...headers, ...corsHeaders(cors, origin), 'apigw-requestid': requestId };
      if (cookies.length > 0) finalHeaders['set-cookie'] = cookies;
      finalHeaders['content-length'] = String(body.length);
      response.writeHead(statusCode, finalHeaders);
      response.end(body);
    };
    try {
      write(outcome.response);
      return outcome;
    } catch (error) {
      // writeHead throws before it writes anything, so a clean answer can still go out.
      const fallback = { response: gatewayError(500, GATEWAY_MESSAGES.internalError), note: `unwritable response: ${(error as Error).message}` };
      if (!response.headersSent) write(fallback.response);
      else response.destroy();
      return fallback;
    }
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    // The WebSocket API's @connections endpoint (the push function's client): not the HTTP API's.
    if (options.websocket?.handleManagement(request, response)) return;
    const began = process.hrtime.bigint();
    const requestId = gatewayRequestId();
    const method = request.method ?? 'GET';
    const url = request.url ?? '/';
    let outcome: Outcome;
    try {
      const body = await readBody(request, limit);
      if (body === undefined) {
        outcome = { response: gatewayError(413, GATEWAY_MESSAGES.tooLarge), note: `body over ${limit} bytes` };
      } else {
        const raw: RawRequest = {
          method,
          url,
          headers: request.headers,
          rawHeaders: request.rawHeaders,
          body,
          sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        };
        outcome = await answer(raw, requestId, request.headers.host ?? `${LOCAL_HOST}`);
      }
    } catch (error) {
      outcome = { response: gatewayError(500, GATEWAY_MESSAGES.internalError), note: `gateway: ${(error as Error).message}` };
    }
    const written = respond(request, response, requestId, outcome);
    const ms = Number(process.hrtime.bigint() - began) / 1e6;
    const { statusCode } = written.response;
    log(printable(`${method} ${splitUrl(url).rawPath} ${statusCode} ${ms.toFixed(0)}ms${written.note && statusCode >= 400 ? ` (${written.note})` : ''}`));
  }

  const server = http.createServer((request, response) => {
    // Whatever a request does, the server goes on serving the next one.
    handle(request, response).catch((error: unknown) => {
      log(printable(`gateway: a request failed unanswered: ${(error as Error).stack ?? String(error)}`));
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(gatewayError(500, GATEWAY_MESSAGES.internalError).body);
      } else {
        response.destroy();
      }
    });
  });

  // Node closes idle keep-alive sockets after 5 s, close to undici's (fetch's) own 4 s, and on a
  // busy machine a client reused a socket the server was closing: ECONNRESET for a request
  // that never arrived. A longer server-side timeout leaves the closing to the client, as
  // API Gateway does; headersTimeout must stay above it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  // A request Node's parser refuses (headers over 16 KiB, Content-Length with Transfer-Encoding,
  // a malformed header line) never reaches the handler above, and Node answers it with an
  // empty body; clients of the API get JSON errors, so this answers it the way `gatewayError` does.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') return void socket.destroy();
    const statusCode = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const { body } = gatewayError(statusCode, statusCode === 431 ? GATEWAY_MESSAGES.headersTooLarge : GATEWAY_MESSAGES.badRequest);
    socket.end(
      `HTTP/1.1 ${statusCode} ${http.STATUS_CODES[statusCode]}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    );
    log(`- - ${statusCode} 0ms (${error.code ?? error.message})`);
  });

  // CONNECT and protocol upgrades never reach the request handler; unheard, Node drops the
  // connection without a word. The HTTP API serves neither: answered as a route it lacks.
  const refuseOnSocket = (request: http.IncomingMessage, socket: Duplex) => {
    const { body } = gatewayError(404, GATEWAY_MESSAGES.notFound);
    socket.on('error', () => socket.destroy());
    socket.end(`HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    log(
      printable(
        `${request.method ?? '-'} ${splitUrl(request.url ?? '/').rawPath} 404 0ms (${request.method === 'CONNECT' ? 'CONNECT' : 'upgrade'} is not served)`,
      ),
    );
  };
  server.on('connect', refuseOnSocket);
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!options.websocket?.handleUpgrade(request, socket, head)) refuseOnSocket(request, socket);
  });

  const host = options.host ?? LOCAL_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ServiceUnavailableError(`Port ${options.port} for the HTTP API is already in use: stop what uses it or set PORT to another port`)
          : error,
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    stop: async () => {
      await options.websocket?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests in flight get a moment to finish; then their connections go too.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
    },
  };
}
