/**
 * The one structured logger of every function (Powertools: JSON lines, level from
 * `POWERTOOLS_LOG_LEVEL`, the Lambda context's ids added per invocation).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { SERVICE_NAME } from '../config/function-config';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME });

/**
 * A handler whose log lines carry this invocation's Lambda context and no key an earlier
 * invocation appended (in the local emulator, another function's: all share this logger).
 * Powertools' `injectLambdaContext({ resetKeys: true })` does the same as a Middy middleware or
 * a class-method decorator; our handlers are functions without Middy, so it is this wrapper.
 */
export function withInvocationContext<E, C extends Context | undefined, R>(
  log: Logger,
  handler: (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  return (event, context) => {
    log.resetKeys();
    if (context !== undefined) log.addContext(context);
    return handler(event, context);
  };
}
