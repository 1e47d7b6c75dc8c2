/**
 * What API Gateway answers: its own error bodies word for word, and a function's result turned
 * into an HTTP response (payload 2.0).
 */

/** API Gateway's own answers, word for word. */
export const GATEWAY_MESSAGES = {
  notFound: 'Not Found',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  tooLarge: 'Request Entity Too Large',
  internalError: 'Internal Server Error',
  badRequest: 'Bad Request',
  headersTooLarge: 'Request Header Fields Too Large',
} as const;

/** An HTTP response about to be written. */
export interface GatewayResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

export function gatewayError(statusCode: number, message: string, headers: Record<string, string> = {}): GatewayResponse {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, cookies: [], body: Buffer.from(JSON.stringify({ message })) };
}

/**
 * A function's result as API Gateway returns it (payload 2.0): a structured result
 * (`statusCode`, `headers`, `cookies`, `body`, `isBase64Encoded`) is passed on; any other
 * value is taken as a JSON body with status 200. A malformed result is a 500, as there.
 */
export function toGatewayResponse(result: unknown): GatewayResponse {
  const isStructured = typeof result === 'object' && result !== null && 'statusCode' in result;
  if (!isStructured) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(body) };
  }
  const structured = result as { statusCode: unknown; headers?: unknown; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
  const statusCode = Number(structured.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return gatewayError(500, GATEWAY_MESSAGES.internalError);
  const headers: Record<string, string> = {};
  if (typeof structured.headers === 'object' && structured.headers !== null) {
    for (const [name, value] of Object.entries(structured.headers)) {
      if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
    }
  }
  const cookies = Array.isArray(structured.cookies) ? structured.cookies.map(String) : [];
  const rawBody = structured.body === undefined || structured.body === null ? '' : String(structured.body);
  const body = structured.isBase64Encoded === true ? Buffer.from(rawBody, 'base64') : Buffer.from(rawBody, 'utf8');
  return { statusCode, headers, cookies, body };
}
