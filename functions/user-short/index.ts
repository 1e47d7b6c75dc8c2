/** `GET /api/users/@{handle}/short`: a person's short profile for the new-conversation page. */
import { httpHandler, jsonResponse, type HttpHandlerOptions } from '../http/handler';
import { callerSub, pathParameter } from '../http/request';
import type { Messaging } from '../domain/messaging';
import { defaultMessaging } from '../runtime/messaging';

export interface UserShortDependencies extends HttpHandlerOptions {
  messaging: () => Messaging | Promise<Messaging>;
}

export function createUserShortHandler(deps: UserShortDependencies) {
  return httpHandler(async (event) => {
    const sub = callerSub(event);
    const messaging = await deps.messaging();
    // The route is /api/users/{handle}/short, so the parameter arrives as `@handle`.
    return jsonResponse(200, await messaging.getUserShort(sub, pathParameter(event, 'handle')));
  }, deps);
}

export const handler = createUserShortHandler({ messaging: defaultMessaging });
