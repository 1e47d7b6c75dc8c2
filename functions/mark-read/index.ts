/**
 * `POST /api/message_groups/{message_group_uuid}/read`: moves the caller's read marker to
 * `{"message_uuid"}` (or, with no body, the newest message); never back. The other member's
 * open apps, and the caller's other tabs, get a `read` frame (message-push).
 */
import { jsonResponse } from '../http/handler';
import { messagingRoute } from '../http/messaging-route';
import { callerSub, optionalJsonObjectBody, pathParameter } from '../http/request';
import { defaultMessaging } from '../wiring/defaults';

export const createMarkReadHandler = messagingRoute(async (event, messaging) => {
  const sub = callerSub(event);
  const body = optionalJsonObjectBody(event);
  return jsonResponse(200, await (await messaging()).markRead(sub, pathParameter(event, 'message_group_uuid'), body));
});

export const handler = createMarkReadHandler({ messaging: defaultMessaging });
