/**
 * Typed errors of the domain. Handlers map them to HTTP responses in one place
 * (`http.ts`); scripts print their messages. Neither ever shows an SDK error to a client.
 */

/** A required setting (environment variable) is missing or malformed. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** A pagination cursor that this service did not issue for this query. */
export class InvalidCursorError extends Error {
  constructor(message = 'The cursor is not valid for this list') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

/** Input failed validation; `codes` are the original API's error codes (422). */
export class ValidationError extends Error {
  constructor(public readonly codes: string[]) {
    super(`Invalid input: ${codes.join(', ')}`);
    this.name = 'ValidationError';
  }
}

/** Something the caller asked for does not exist, or the caller may not know it exists. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/**
 * A write could not be applied after retries (throttling, transaction conflicts,
 * unprocessed batch items). Nothing was half-written, but the write did not happen.
 */
export class WriteNotAppliedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WriteNotAppliedError';
  }
}

/** A local service (DynamoDB Local, PostgreSQL, Cognito) could not be reached. */
export class ServiceUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceUnavailableError';
  }
}
