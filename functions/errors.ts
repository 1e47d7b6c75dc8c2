/**
 * Every error the functions raise on purpose, in one family: each carries the HTTP status
 * and the code a client gets, so turning one into a response is data (see
 * `http/handler.ts`), not an `instanceof` chain. Scripts print their messages.
 *
 * Client errors (4xx) show their message; faults (5xx) show a fixed public message and a
 * request id, and their own message goes to the log only, since it may name internals.
 */

export abstract class AppError extends Error {
  /** The HTTP status of the answer. */
  abstract readonly status: number;
  /** A stable, machine-readable code (`not_found`, `service_unavailable`, ...). */
  abstract readonly code: string;

  // Each class names itself with a literal: bundles are minified, so class names are not kept.
  abstract override readonly name: string;

  /** A fault of ours (5xx), logged with its details; the client sees none of them. */
  get fault(): boolean {
    return this.status >= 500;
  }

  /** What the client reads. */
  body(requestId?: string): unknown {
    if (!this.fault) return { error: this.code, message: this.message };
    return { error: this.code, message: this.publicMessage, ...(requestId === undefined ? {} : { request_id: requestId }) };
  }

  /** Response headers the status calls for. */
  headers(): Record<string, string> {
    return {};
  }

  /** The message a fault shows instead of its own. */
  protected get publicMessage(): string {
    return 'Something went wrong on our side';
  }
}

/** A required setting (environment variable, secret) is missing or malformed: 500. */
export class ConfigurationError extends AppError {
  override readonly name: string = 'ConfigurationError';
  readonly status = 500;
  readonly code = 'internal_error';
}

/**
 * Input failed validation: 422 with the bare array of codes, as the original answered and
 * the Cruddur frontend reads it.
 */
export class ValidationError extends AppError {
  override readonly name: string = 'ValidationError';
  readonly status = 422;
  readonly code = 'validation_failed';

  constructor(public readonly codes: string[]) {
    super(`Invalid input: ${codes.join(', ')}`);
  }

  override body(): unknown {
    return this.codes;
  }
}

/** A pagination cursor that this service did not issue for this list: 422 `cursor_invalid`. */
export class InvalidCursorError extends ValidationError {
  override readonly name: string = 'InvalidCursorError';
  constructor() {
    super(['cursor_invalid']);
    this.message = 'The cursor is not valid for this list';
  }
}

/** No token, or one without a subject: 401. */
export class UnauthenticatedError extends AppError {
  override readonly name: string = 'UnauthenticatedError';
  readonly status = 401;
  readonly code = 'unauthorized';

  constructor(message = 'Sign in first: the request carries no valid access token') {
    super(message);
  }

  override headers(): Record<string, string> {
    return { 'WWW-Authenticate': 'Bearer' };
  }
}

/**
 * The token is valid but names nobody in the users table (signed up in Cognito, never
 * synced by `db:update-cognito-user-ids`): 403, not 401, since signing in again won't help.
 */
export class UnregisteredCallerError extends AppError {
  override readonly name: string = 'UnregisteredCallerError';
  readonly status = 403;
  readonly code = 'forbidden';

  constructor() {
    super('Your account is not registered with Cruddur yet; no user has this Cognito identity');
  }
}

/** Something the caller asked for does not exist, or the caller may not know it exists: 404. */
export class NotFoundError extends AppError {
  override readonly name: string = 'NotFoundError';
  readonly status = 404;
  readonly code = 'not_found';
}

/** A body that is not a JSON object: 400. */
export class BadRequestError extends AppError {
  override readonly name: string = 'BadRequestError';
  readonly status = 400;
  readonly code = 'bad_request';
}

/** A body over the limit: 413. */
export class PayloadTooLargeError extends AppError {
  override readonly name: string = 'PayloadTooLargeError';
  readonly status = 413;
  readonly code = 'payload_too_large';

  constructor(limitBytes: number) {
    super(`The request body is larger than ${limitBytes} bytes`);
  }
}

/**
 * The service is busy (DynamoDB throttling, transaction conflicts or unprocessed items that
 * outlived the retries): 503 with Retry-After. Nothing was half-written, and a write that
 * may have landed anyway was checked before this was raised (`writeOnce` in the repository).
 */
export class ServiceBusyError extends AppError {
  override readonly name: string = 'ServiceBusyError';
  readonly status = 503;
  readonly code = 'service_unavailable';

  override headers(): Record<string, string> {
    return { 'Retry-After': '1' };
  }

  protected override get publicMessage(): string {
    return 'The service is busy and nothing was saved; try again in a moment';
  }
}

/** A write could not be applied after retries. */
export class WriteNotAppliedError extends ServiceBusyError {
  override readonly name: string = 'WriteNotAppliedError';
}

/** A service (DynamoDB Local, PostgreSQL, Cognito) could not be reached. */
export class ServiceUnavailableError extends ServiceBusyError {
  override readonly name: string = 'ServiceUnavailableError';
}

/** The users database has no connection to spare (or cannot be reached) after a few tries: 503, try again. */
export class UsersDatabaseBusyError extends ServiceBusyError {
  override readonly name: string = 'UsersDatabaseBusyError';
}

/** The caller sent more than its limit allows in the current window: 429 with Retry-After; nothing was stored. */
export class RateLimitedError extends AppError {
  override readonly name: string = 'RateLimitedError';
  readonly status = 429;
  readonly code = 'rate_limited';

  constructor(
    message: string,
    /** Seconds until the window ends. */
    public readonly retryAfterSeconds: number,
  ) {
    super(message);
  }

  override headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfterSeconds) };
  }
}
