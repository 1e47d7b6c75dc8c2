/** `GET /api/users/@{handle}/short`: a person's short profile for the new-conversation page. */
import { callerSub, httpHandler, jsonResponse, pathParameter, type HttpHandlerOptions } from '../commons/http';
import type { Messaging } from '../commons/messaging';
import { defaultMessaging } from '../commons/messaging-runtime';

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
