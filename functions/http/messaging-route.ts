/**
 * How an HTTP function of the messaging API is made: an operation over the request and the
 * messaging domain, wrapped by `httpHandler`. The domain comes from a factory the handler
 * calls when it needs it (after reading the caller, so a request without a token never
 * touches it): the production wiring by default, the tests' own otherwise.
 */
import type { Messaging } from '../domain/conversations';
import { httpHandler, type HttpHandlerOptions, type HttpResult, type LambdaHttpHandler } from './handler';
import type { HttpEvent } from './request';

export interface MessagingRouteDependencies extends HttpHandlerOptions {
  messaging: () => Messaging | Promise<Messaging>;
}

/** A handler factory for `operation`; `messaging()` resolves the domain on first use. */
export function messagingRoute(operation: (event: HttpEvent, messaging: () => Promise<Messaging>) => Promise<HttpResult>) {
  return (deps: MessagingRouteDependencies): LambdaHttpHandler => httpHandler((event) => operation(event, async () => deps.messaging()), deps);
}
