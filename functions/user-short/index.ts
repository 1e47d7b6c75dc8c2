/** `GET /api/users/@{handle}/short`: a person's short profile for the new-conversation page. */
import { jsonResponse } from '../http/handler';
import { messagingRoute } from '../http/messaging-route';
import { callerSub, pathParameter } from '../http/request';
import { defaultMessaging } from '../runtime/messaging';

export const createUserShortHandler = messagingRoute(async (event, messaging) => {
  const sub = callerSub(event);
  // The route is /api/users/{handle}/short, so the parameter arrives as `@handle`.
  return jsonResponse(200, await (await messaging()).getUserShort(sub, pathParameter(event, 'handle')));
});

export const handler = createUserShortHandler({ messaging: defaultMessaging });
