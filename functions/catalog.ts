/**
 * The function list: every Lambda function of the system, defined once. The bundler, the
 * infrastructure (functions, routes, IAM, event source mapping), the local HTTP gateway,
 * the local stream consumer and the invoke script all read this module.
 */

import { KeyPrefix } from './data/model/table';

/** DynamoDB actions a function may perform on the messages table (least privilege). */
type TableAction = 'dynamodb:GetItem' | 'dynamodb:Query' | 'dynamodb:PutItem' | 'dynamodb:UpdateItem' | 'dynamodb:DeleteItem' | 'dynamodb:ConditionCheckItem';

interface FunctionBase {
  /** Function name suffix and `dist/` folder; the deployed name is `cruddur-{env}-{name}`. */
  name: string;
  description: string;
  /** Handler source, relative to the repository root; it exports `handler`. */
  entry: string;
  memoryMb: number;
  timeoutSeconds: number;
  /**
   * Actions on the table; `index: true` also grants them on the GSI; `leadingKeys`, when set,
   * confines them to items whose partition key starts with one of these prefixes (IAM's
   * `dynamodb:LeadingKeys`).
   */
  table: { actions: readonly TableAction[]; index?: boolean; leadingKeys?: readonly string[] };
  /**
   * The per-user limit it enforces (functions/config/limits.ts): `posts` counts each message
   * in a `RATE#` item, `connections` caps a user's open WebSockets. Its environment carries the
   * limit; `posts` also grants the UpdateItem on `RATE#` items.
   */
  userLimit?: 'posts' | 'connections';
  /** Whether the function reads users from PostgreSQL: exactly those run in the VPC ({@link runsInVpc}). */
  usersDatabase: boolean;
  /** Posts to the WebSocket API's connections (`execute-api:ManageConnections` on that API). */
  manageConnections?: boolean;
}

/** A function behind the HTTP API, invoked with API Gateway v2 (payload 2.0) events. */
export interface HttpFunction extends FunctionBase {
  kind: 'http';
  /**
   * API Gateway route. HTTP API parameters span whole path segments, so the frontend's
   * `/api/users/@{handle}/short` is the route `/api/users/{handle}/short` and the handler
   * strips the `@`.
   */
  route: { method: 'GET' | 'POST'; path: string };
  /**
   * Who may call it: `cognito-jwt`, a valid access token of the user pool (checked by the
   * API's JWT authorizer before the function runs), or `public`, anyone (the original's
   * public routes, such as a profile). Either way the stage's throttling applies.
   */
  auth: 'cognito-jwt' | 'public';
}

/**
 * The `action` of the one frame clients may send (API Gateway routes a frame by its
 * `$request.body.action`): "I am typing in this conversation".
 */
export const TYPING_ACTION = 'typing';

/** A connection's typing frames are forwarded at most once per this many milliseconds; the rest are dropped. */
export const TYPING_INTERVAL_MS = 1000;

/**
 * A route of the WebSocket API (API Gateway v2, WEBSOCKET), invoked with its proxy events.
 * `$connect` runs only after the API's authorizer accepted the token; a client frame is routed
 * by its `action`, and one whose action has no route is refused by API Gateway (there is no
 * `$default` route).
 */
export interface WebSocketFunction extends FunctionBase {
  kind: 'websocket';
  route: '$connect' | '$disconnect' | typeof TYPING_ACTION;
}

/**
 * The WebSocket API's Lambda REQUEST authorizer: WebSocket APIs have no JWT authorizer, and
 * a browser cannot set headers on a WebSocket, so the access token comes as the `token`
 * query parameter of the connection URL.
 */
export interface WebSocketAuthorizerFunction extends FunctionBase {
  kind: 'websocket-authorizer';
  /** Where API Gateway finds the token; without it, the connection is refused before the function runs. */
  identitySource: 'route.request.querystring.token';
}

/** Settings of the DynamoDB stream event source mapping (deployed and local alike). */
export interface StreamSource {
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  maximumRetryAttempts: number;
  maximumRecordAgeInSeconds: number;
  bisectBatchOnFunctionError: boolean;
  functionResponseTypes: readonly ['ReportBatchItemFailures'];
  /** Lambda event filter patterns (any one must match). */
  filterPatterns: readonly Record<string, unknown>[];
}

/** A function fed by the messages table's stream. */
export interface StreamFunction extends FunctionBase {
  kind: 'stream';
  source: StreamSource;
  /**
   * Logs the records it can never apply as one `UNPLACEABLE_MESSAGE` line with their count, so
   * the deployment counts them with a log metric filter (and alarms on them).
   */
  reportsUnplaceableRecords?: boolean;
}

export type FunctionDefinition = HttpFunction | StreamFunction | WebSocketFunction | WebSocketAuthorizerFunction;

/**
 * Whether a function runs in the VPC: exactly when it reads PostgreSQL, whose database is
 * only reachable there. Every other function stays out: the VPC has no NAT, so inside it a
 * function could not reach the public endpoints some call (Cognito's JWKS, API Gateway's
 * @connections, which no VPC endpoint serves), and each VPC function costs network
 * interfaces and a slower cold start for nothing.
 */
export function runsInVpc(definition: Pick<FunctionDefinition, 'usersDatabase'>): boolean {
  return definition.usersDatabase;
}

/** Only new messages move group summaries; group, pair and summary items are ignored. */
export const MESSAGE_STREAM_SOURCE: StreamSource = {
  batchSize: 100,
  maximumBatchingWindowInSeconds: 1,
  startingPosition: 'TRIM_HORIZON',
  maximumRetryAttempts: 5,
  maximumRecordAgeInSeconds: 3600,
  bisectBatchOnFunctionError: true,
  functionResponseTypes: ['ReportBatchItemFailures'],
  filterPatterns: [{ eventName: ['INSERT'], dynamodb: { Keys: { pk: { S: [{ prefix: 'MSG#' }] } } } }],
};

/**
 * New messages and read receipts pushed to open WebSockets: a push older than a few minutes
 * helps nobody (the app fetches on open), so records expire sooner and are retried less than
 * the summaries'.
 */
export const MESSAGE_PUSH_SOURCE: StreamSource = {
  ...MESSAGE_STREAM_SOURCE,
  filterPatterns: [...MESSAGE_STREAM_SOURCE.filterPatterns, { eventName: ['INSERT'], dynamodb: { Keys: { pk: { S: [{ prefix: 'RECEIPT#' }] } } } }],
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  startingPosition: 'LATEST',
  maximumRetryAttempts: 2,
  maximumRecordAgeInSeconds: 300,
};

export const FUNCTIONS: readonly FunctionDefinition[] = [
  {
    kind: 'http',
    name: 'list-message-groups',
    description: "Pattern B: the caller's conversations, newest first",
    entry: 'functions/list-message-groups/index.ts',
    route: { method: 'GET', path: '/api/message_groups' },
    auth: 'cognito-jwt',
    memoryMb: 256,
    timeoutSeconds: 10,
    table: { actions: ['dynamodb:Query'] },
    usersDatabase: true,
  },
  {
    kind: 'http',
    name: 'list-messages',
    description: 'Pattern A: the messages of a conversation the caller is in, oldest first',
    entry: 'functions/list-messages/index.ts',
    route: { method: 'GET', path: '/api/messages/{message_group_uuid}' },
    auth: 'cognito-jwt',
    memoryMb: 256,
    timeoutSeconds: 10,
    table: { actions: ['dynamodb:GetItem', 'dynamodb:Query'] },
    usersDatabase: true,
  },
  {
    kind: 'http',
    name: 'create-message',
    description: 'Patterns C and D: a message to an existing conversation or to a person',
    entry: 'functions/create-message/index.ts',
    route: { method: 'POST', path: '/api/messages' },
    auth: 'cognito-jwt',
    memoryMb: 256,
    timeoutSeconds: 10,
    table: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'] },
    usersDatabase: true,
    userLimit: 'posts',
  },
  {
    kind: 'http',
    name: 'mark-read',
    description: "Read markers: moves the caller's marker in a conversation forward, with their unread count, and leaves a receipt for the push",
    entry: 'functions/mark-read/index.ts',
    route: { method: 'POST', path: '/api/message_groups/{message_group_uuid}/read' },
    auth: 'cognito-jwt',
    memoryMb: 256,
    timeoutSeconds: 10,
    table: { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:PutItem'] },
    usersDatabase: true,
  },
  {
    kind: 'http',
    name: 'count-unread',
    description: "The caller's unread badge: conversations with unread messages, and those messages",
    entry: 'functions/count-unread/index.ts',
    route: { method: 'GET', path: '/api/message_groups/unread' },
    auth: 'cognito-jwt',
    memoryMb: 256,
    timeoutSeconds: 10,
    table: { actions: ['dynamodb:Query'] },
    usersDatabase: true,
  },
  {
    kind: 'http',
    name: 'user-short',
    description: "A person's short profile (uuid, handle, display name) for the new-conversation page; public, as profiles are in Cruddur",
    entry: 'functions/user-short/index.ts',
    route: { method: 'GET', path: '/api/users/{handle}/short' },
    // The original route was public and the Cruddur frontend calls it without a token.
    auth: 'public',
    memoryMb: 256,
    timeoutSeconds: 10,
    table: { actions: [] },
    usersDatabase: true,
  },
  {
    kind: 'stream',
    name: 'message-stream',
    description: "Pattern E: moves both participants' group summaries to the newest message",
    entry: 'functions/message-stream/index.ts',
    memoryMb: 256,
    timeoutSeconds: 60,
    table: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem'] },
    usersDatabase: false,
    reportsUnplaceableRecords: true,
    source: MESSAGE_STREAM_SOURCE,
  },
  {
    kind: 'websocket-authorizer',
    name: 'ws-authorize',
    description: 'WebSocket $connect: accepts a Cognito access token of the app client, given as ?token=',
    entry: 'functions/ws-authorize/index.ts',
    identitySource: 'route.request.querystring.token',
    memoryMb: 256,
    timeoutSeconds: 5,
    table: { actions: [] },
    usersDatabase: false,
  },
  {
    kind: 'websocket',
    name: 'ws-connect',
    description: 'WebSocket $connect: records the connection under its user',
    entry: 'functions/ws-connect/index.ts',
    route: '$connect',
    memoryMb: 256,
    timeoutSeconds: 10,
    // Its connection items only: the user's open ones counted, the new one written.
    table: { actions: ['dynamodb:Query', 'dynamodb:PutItem'], leadingKeys: [KeyPrefix.connection] },
    usersDatabase: true,
    userLimit: 'connections',
  },
  {
    kind: 'websocket',
    name: 'ws-disconnect',
    description: 'WebSocket $disconnect: forgets the connection',
    entry: 'functions/ws-disconnect/index.ts',
    route: '$disconnect',
    memoryMb: 256,
    timeoutSeconds: 10,
    table: { actions: ['dynamodb:DeleteItem'], leadingKeys: [KeyPrefix.connection] },
    usersDatabase: true,
  },
  {
    kind: 'websocket',
    name: 'ws-typing',
    description: "WebSocket frames {action: typing}: forwarded to the other member's open connections, one per connection per second",
    entry: 'functions/ws-typing/index.ts',
    route: TYPING_ACTION,
    memoryMb: 256,
    timeoutSeconds: 5,
    // The group's members; the sender's connection item (its last typing turn) and the other member's connections.
    table: {
      actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      leadingKeys: [KeyPrefix.group, KeyPrefix.connection],
    },
    usersDatabase: false,
    manageConnections: true,
  },
  {
    kind: 'stream',
    name: 'message-push',
    description: 'Pushes each new message to every open WebSocket of both participants',
    entry: 'functions/message-push/index.ts',
    memoryMb: 256,
    timeoutSeconds: 30,
    // A group's members, and their connections (gone and expired ones deleted).
    table: { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DeleteItem'], leadingKeys: [KeyPrefix.group, KeyPrefix.connection] },
    usersDatabase: false,
    manageConnections: true,
    source: MESSAGE_PUSH_SOURCE,
  },
];

/**
 * Readers of one stream shard at most before DynamoDB throttles them (DynamoDB developer guide,
 * "Change data capture for DynamoDB Streams": no more than two processes should read from the
 * same shard at the same time). Each stream function's event source mapping is one reader.
 */
export const MAX_STREAM_READERS = 2;

/** Why these functions cannot all read the table's stream, or undefined when they can. */
export function streamReadersProblem(functions: readonly FunctionDefinition[]): string | undefined {
  const readers = functions.filter((fn) => fn.kind === 'stream').map((fn) => fn.name);
  if (readers.length <= MAX_STREAM_READERS) return undefined;
  return `${readers.length} stream functions (${readers.join(', ')}) would read the table's stream; DynamoDB throttles more than ${MAX_STREAM_READERS} readers per shard: fold one into another, or feed it from a Kinesis stream or EventBridge Pipes`;
}

export const HTTP_FUNCTIONS = FUNCTIONS.filter((fn): fn is HttpFunction => fn.kind === 'http');
export const STREAM_FUNCTIONS = FUNCTIONS.filter((fn): fn is StreamFunction => fn.kind === 'stream');
export const WEBSOCKET_FUNCTIONS = FUNCTIONS.filter((fn): fn is WebSocketFunction => fn.kind === 'websocket');
export const WEBSOCKET_AUTHORIZER = FUNCTIONS.find((fn): fn is WebSocketAuthorizerFunction => fn.kind === 'websocket-authorizer');

/**
 * The scopes a `cognito-jwt` route requires of a token (API Gateway's `authorizationScopes`,
 * and the local gateway's same check): a Cognito access token of a user pool sign-in carries
 * `aws.cognito.signin.user.admin`; an ID token carries no scope and is refused (403), as AWS
 * recommends ("configure your routes to require authorization scopes"). The handlers also
 * refuse any token whose `token_use` is not `access` (401), should the scopes be removed.
 */
export const ACCESS_TOKEN_SCOPES: readonly string[] = ['aws.cognito.signin.user.admin'];

/** The WebSocket API's stage: the path of its URL (`wss://{api}.execute-api.{region}.amazonaws.com/ws`, locally `ws://127.0.0.1:4567/ws`). */
export const WEBSOCKET_STAGE = 'ws';

/** The stream function with this name. @throws Error when there is none. */
export function streamFunctionNamed(name: string): StreamFunction {
  const found = functionNamed(name);
  if (found.kind !== 'stream') throw new Error(`"${name}" is not a stream function`);
  return found;
}

/** The definition with this name. @throws Error naming the known functions. */
export function functionNamed(name: string): FunctionDefinition {
  const found = FUNCTIONS.find((fn) => fn.name === name);
  if (!found) throw new Error(`Unknown function "${name}"; known: ${FUNCTIONS.map((fn) => fn.name).join(', ')}`);
  return found;
}

/**
 * The response header carrying the next page's cursor. Browsers may read it only if CORS
 * exposes it, so the deployed API and the local gateway both list it.
 */
export const NEXT_CURSOR_HEADER = 'X-Next-Cursor';

/** Marks an answer given again for a retried Idempotency-Key (the name Stripe's and others' APIs use). */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** The HTTP API's CORS rules besides the allowed origins (which differ per environment). */
export const API_CORS = {
  allowMethods: ['GET', 'POST', 'OPTIONS'],
  // Idempotency-Key: a browser may send it only if the preflight allows it.
  allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
  exposeHeaders: [NEXT_CURSOR_HEADER, IDEMPOTENT_REPLAYED_HEADER],
  maxAgeSeconds: 3600,
} as const;

/** The Lambda runtime the bundles target and the infrastructure deploys. */
export const LAMBDA_RUNTIME = { name: 'nodejs24.x', esbuildTarget: 'node24', architecture: 'arm64' } as const;
