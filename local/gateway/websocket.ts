/**
 * The local WebSocket API: what the deployed API Gateway WebSocket API does in front of the
 * catalog's WebSocket functions, on the local gateway's port at `/ws` (the deployed stage's
 * path). A connection runs the REQUEST authorizer function first (no `token` query parameter:
 * 401 without running it, as the identity source makes API Gateway do), then `$connect`;
 * only a 2xx from both completes the handshake. Closing runs `$disconnect`. A client's frame
 * is routed by its JSON `action` (the API's `$request.body.action`) to the route of that name
 * (`typing`); any other frame gets API Gateway's "Forbidden" answer (there is no `$default`
 * route), and a route function that fails, its "Internal server error".
 *
 * `POST /ws/@connections/{id}` (and GET, DELETE) is the management API the push function's
 * SDK client is pointed at: a frame to a connection, or 410 Gone when there is none. As in
 * AWS, it takes only requests signed (Signature Version 4) with the credentials the runtime
 * gave the functions, a secret of this run: anyone else on the machine gets 403, whatever
 * connection id they know. Frames are capped at API Gateway's 128 KiB (413).
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayAuthorizerResult, APIGatewayProxyResultV2 } from 'aws-lambda';
import { WebSocketServer, type WebSocket } from 'ws';
import { WEBSOCKET_STAGE, type FunctionDefinition, type WebSocketAuthorizerFunction, type WebSocketFunction } from '../../functions/catalog';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../aws';
import { invokeFunction, lambdaContext, loadHandler, type LambdaHandler } from '../lambda';
import { gatewayRequestId } from './http-event';
import { splitUrl } from './routes';
import { signatureProblem, type SigningCredentials } from './sigv4';

/** API Gateway's limit on a frame, either way (a client's and a post's). */
const MAX_CLIENT_FRAME_BYTES = 128 * 1024;
const MAX_POST_BYTES = MAX_CLIENT_FRAME_BYTES;
const LOCAL_API_ID = 'local';
export const WEBSOCKET_PATH = `/${WEBSOCKET_STAGE}`;
const CONNECTIONS_PATH = `${WEBSOCKET_PATH}/@connections/`;

export interface LocalWebSocketApiOptions {
  authorizer: WebSocketAuthorizerFunction;
  routes: readonly WebSocketFunction[];
  /** The function's handler; by default the catalog entry's `handler` export. */
  handlerFor?: (fn: FunctionDefinition) => Promise<LambdaHandler<unknown, unknown>>;
  /** The credentials whose signature `@connections` requests must carry (the functions'). */
  managementCredentials: SigningCredentials;
  log: (line: string) => void;
}

interface Connection {
  socket: WebSocket;
  connectedAt: Date;
  lastActiveAt: Date;
  sourceIp: string;
  /** What the authorizer passed on, for `$disconnect`. */
  authorizer: Record<string, unknown>;
}

export interface LocalWebSocketApi {
  /** Completes or refuses a WebSocket handshake to `/ws`; false for any other path. */
  handleUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Serves `/ws/@connections/...`; false for any other path. */
  handleManagement(request: http.IncomingMessage, response: http.ServerResponse): boolean;
  /** How many connections are open. */
  connections(): number;
  /** Closes every connection (each runs `$disconnect`) and waits for those calls. */
  close(): Promise<void>;
}

/** API Gateway's connection ids are 16 base64 characters ending in `=`. */
const newConnectionId = () => randomBytes(10).toString('base64');

function refuse(socket: Duplex, statusCode: number, message: string): void {
  const body = JSON.stringify({ message });
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${statusCode} ${statusCode === 401 ? 'Unauthorized' : statusCode === 403 ? 'Forbidden' : statusCode === 404 ? 'Not Found' : 'Internal Server Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(',') : value);

export function createLocalWebSocketApi(options: LocalWebSocketApiOptions): LocalWebSocketApi {
  const handlerFor = options.handlerFor ?? ((fn: FunctionDefinition) => loadHandler<LambdaHandler<unknown, unknown>>(fn));
  const route = (key: string) => options.routes.find((fn) => fn.route === key);

  /** The route a client frame selects by its `action` (never `$connect` or `$disconnect`), if any. */
  function routeOfFrame(text: string): WebSocketFunction | undefined {
    let action: unknown;
    try {
      action = (JSON.parse(text) as { action?: unknown } | null)?.action;
    } catch {
      return undefined;
    }
    return typeof action === 'string' && !action.startsWith('$') ? route(action) : undefined;
  }
  const server = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES });
  const open = new Map<string, Connection>();
  const disconnecting = new Set<Promise<unknown>>();

  function requestContext(routeKey: string, eventType: string, connectionId: string, request: http.IncomingMessage, extra: Record<string, unknown> = {}) {
    const now = Date.now();
    return {
      routeKey,
      eventType,
      extendedRequestId: gatewayRequestId(),
      requestTime: new Date(now).toUTCString(),
      messageDirection: 'IN',
      stage: WEBSOCKET_STAGE,
      connectedAt: now,
      requestTimeEpoch: now,
      identity: { sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1', userAgent: single(request.headers['user-agent']) },
      requestId: gatewayRequestId(),
      domainName: request.headers.host ?? '127.0.0.1',
      connectionId,
      apiId: LOCAL_API_ID,
      ...extra,
    };
  }

  async function invoke<R>(fn: FunctionDefinition, event: unknown): Promise<R> {
    return (await invokeFunction(fn, await handlerFor(fn), event, lambdaContext(fn))) as R;
  }

  async function connect(request: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const began = Date.now();
    const connectionId = newConnectionId();
    const { rawQueryString } = splitUrl(request.url ?? '/');
    const query = Object.fromEntries(new URLSearchParams(rawQueryString));
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, single(value) ?? '']));
    const done = (status: number, note?: string) => options.log(`WS ${WEBSOCKET_PATH} $connect ${status} ${Date.now() - began}ms${note ? ` (${note})` : ''}`);

    // The identity source: without the token, API Gateway refuses before any function runs.
    if (!query.token) {
      refuse(socket, 401, 'Unauthorized');
      return done(401, 'no token');
    }
    let context: Record<string, unknown>;
    try {
      const result = await invoke<APIGatewayAuthorizerResult>(options.authorizer, {
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${LOCAL_API_ID}/${WEBSOCKET_STAGE}/$connect`,
        headers,
        multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
        queryStringParameters: query,
        multiValueQueryStringParameters: Object.fromEntries(Object.entries(query).map(([name, value]) => [name, [value]])),
        stageVariables: {},
        requestContext: requestContext('$connect', 'CONNECT', connectionId, request),
      });
      const allowed = result.policyDocument.Statement.some((statement) => statement.Effect === 'Allow');
      if (!allowed) {
        refuse(socket, 403, 'Forbidden');
        return done(403, 'the authorizer denied it');
      }
      context = { ...(result.context ?? {}), principalId: result.principalId };
    } catch (error) {
      const unauthorized = (error as Error).message === 'Unauthorized';
      refuse(socket, unauthorized ? 401 : 500, unauthorized ? 'Unauthorized' : 'Internal server error');
      return done(unauthorized ? 401 : 500, unauthorized ? 'invalid token' : `${options.authorizer.name}: ${(error as Error).message}`);
    }

    const connectRoute = route('$connect');
    if (connectRoute) {
      try {
        const result = await invoke<APIGatewayProxyResultV2>(connectRoute, {
          requestContext: requestContext('$connect', 'CONNECT', connectionId, request, { authorizer: context }),
          headers,
          queryStringParameters: query,
          isBase64Encoded: false,
        });
        const status = typeof result === 'object' && result !== null && typeof result.statusCode === 'number' ? result.statusCode : 200;
        if (status < 200 || status > 299) {
          // The route's refusal reaches the client (a 429 for a user over the connection cap).
          const refusal = status === 401 ? [401, 'Unauthorized'] : status === 429 ? [429, 'Too Many Requests'] : [403, 'Forbidden'];
          refuse(socket, refusal[0] as number, refusal[1] as string);
          return done(status, `${connectRoute.name} answered ${status}`);
        }
      } catch (error) {
        refuse(socket, 500, 'Internal server error');
        return done(500, `${connectRoute.name}: ${(error as Error).message}`);
      }
    }

    server.handleUpgrade(request, socket, head, (ws) => {
      const connection: Connection = {
        socket: ws,
        connectedAt: new Date(),
        lastActiveAt: new Date(),
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        authorizer: context,
      };
      open.set(connectionId, connection);
      done(101, connectionId);
      ws.on('message', (data, isBinary) => {
        connection.lastActiveAt = new Date();
        const text = isBinary ? undefined : data.toString();
        const frameRoute = text === undefined ? undefined : routeOfFrame(text);
        if (frameRoute === undefined) {
          // No route for this action and no $default route: API Gateway answers a client's frame so.
          ws.send(JSON.stringify({ message: 'Forbidden', connectionId, requestId: gatewayRequestId() }));
          return;
        }
        const began = Date.now();
        invoke<APIGatewayProxyResultV2>(frameRoute, {
          requestContext: requestContext(frameRoute.route, 'MESSAGE', connectionId, request, {
            authorizer: context,
            messageId: gatewayRequestId(),
            messageDirection: 'IN',
          }),
          body: text,
          isBase64Encoded: false,
        })
          .then((result) => {
            const status = typeof result === 'object' && result !== null && typeof result.statusCode === 'number' ? result.statusCode : 200;
            options.log(`WS ${WEBSOCKET_PATH} ${frameRoute.route} ${status} ${Date.now() - began}ms`);
          })
          .catch((error: unknown) => {
            options.log(`WS ${WEBSOCKET_PATH} ${frameRoute.route} 500 ${Date.now() - began}ms (${frameRoute.name}: ${(error as Error).message})`);
            if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ message: 'Internal server error', connectionId, requestId: gatewayRequestId() }));
          });
      });
      ws.on('error', () => ws.terminate());
      ws.on('close', () => {
        open.delete(connectionId);
        const disconnectRoute = route('$disconnect');
        if (!disconnectRoute) return;
        const call = invoke(disconnectRoute, {
          requestContext: requestContext('$disconnect', 'DISCONNECT', connectionId, request, { authorizer: context, disconnectStatusCode: 1000 }),
          headers,
          isBase64Encoded: false,
        })
          .then(() => options.log(`WS ${WEBSOCKET_PATH} $disconnect ${connectionId}`))
          .catch((error: unknown) => options.log(`WS ${WEBSOCKET_PATH} $disconnect ${connectionId} failed: ${(error as Error).message}`))
          .finally(() => disconnecting.delete(call));
        disconnecting.add(call);
      });
    });
  }

  function management(request: http.IncomingMessage, response: http.ServerResponse, connectionId: string): void {
    const reply = (status: number, body?: unknown, headers: http.OutgoingHttpHeaders = {}) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      response.end(text);
    };
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_POST_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => {
      if (tooLarge) {
        reply(413, { message: `Message too long: at most ${MAX_POST_BYTES} bytes` }, { 'x-amzn-errortype': 'PayloadTooLargeException' });
        return;
      }
      const { rawPath, rawQueryString } = splitUrl(request.url ?? '/');
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, single(value)]));
      signatureProblem(
        {
          method: request.method ?? 'GET',
          host: headers.host ?? '',
          path: rawPath,
          query: Object.fromEntries(new URLSearchParams(rawQueryString)),
          headers,
          body,
        },
        options.managementCredentials,
      )
        .then((problem) => {
          if (problem !== undefined) {
            options.log(`WS @connections ${request.method} refused: ${problem}`);
            reply(403, { message: 'Forbidden' }, { 'x-amzn-errortype': 'ForbiddenException' });
            return;
          }
          act(request.method ?? 'GET', connectionId, body, reply);
        })
        .catch((error: unknown) => reply(500, { message: (error as Error).message }));
    });
  }

  /** What a signed `@connections` request asks, done. */
  function act(method: string, connectionId: string, body: Buffer, reply: (status: number, body?: unknown, headers?: http.OutgoingHttpHeaders) => void): void {
    const connection = open.get(connectionId);
    // As API Gateway answers a connection that is gone; the SDK maps the error type to GoneException.
    const gone = () => reply(410, { message: null }, { 'x-amzn-errortype': 'GoneException' });
    if (method === 'POST') {
      if (!connection || connection.socket.readyState !== connection.socket.OPEN) {
        gone();
        return;
      }
      connection.socket.send(body.toString('utf8'), (error) => {
        if (error) gone();
        else reply(200);
      });
      return;
    }
    if (!connection) gone();
    else if (method === 'GET')
      reply(200, {
        ConnectedAt: connection.connectedAt.toISOString(),
        Identity: { SourceIp: connection.sourceIp },
        LastActiveAt: connection.lastActiveAt.toISOString(),
      });
    else if (method === 'DELETE') {
      connection.socket.close(1000);
      reply(204);
    } else reply(405, { message: 'Method Not Allowed' });
  }

  return {
    handleUpgrade(request, socket, head) {
      if (splitUrl(request.url ?? '/').rawPath !== WEBSOCKET_PATH) return false;
      connect(request, socket, head).catch((error: unknown) => {
        options.log(`WS ${WEBSOCKET_PATH} $connect failed: ${(error as Error).stack ?? error}`);
        if (socket.writable) refuse(socket, 500, 'Internal server error');
      });
      return true;
    },
    handleManagement(request, response) {
      const { rawPath } = splitUrl(request.url ?? '/');
      if (!rawPath.startsWith(CONNECTIONS_PATH)) return false;
      management(request, response, decodeURIComponent(rawPath.slice(CONNECTIONS_PATH.length)));
      return true;
    },
    connections: () => open.size,
    async close() {
      for (const connection of open.values()) connection.socket.close(1001);
      // Each close runs $disconnect; wait for the frames and the calls.
      const deadline = Date.now() + 5000;
      while ((open.size > 0 || disconnecting.size > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const connection of open.values()) connection.socket.terminate();
      await Promise.allSettled([...disconnecting]);
      server.close();
    },
  };
}
