/** `GET /api/message_groups/unread`: `{"conversations": n, "messages": m}`, the caller's unread badge. */
import { jsonResponse } from '../http/handler';
import { messagingRoute } from '../http/messaging-route';
import { callerSub } from '../http/request';
import { defaultMessaging } from '../wiring/defaults';

export const createCountUnreadHandler = messagingRoute(async (event, messaging) => {
  const sub = callerSub(event);
  return jsonResponse(200, await (await messaging()).unreadTotals(sub));
});

export const handler = createCountUnreadHandler({ messaging: defaultMessaging });
