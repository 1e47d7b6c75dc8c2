/**
 * `POST /api/messages`: `{message, message_group_uuid}` appends to a conversation the caller
 * is in (pattern C); `{message, handle}` writes to a person, in the pair's one conversation (pattern D).
 */
import { jsonResponse } from '../http/handler';
import { messagingRoute } from '../http/messaging-route';
import { callerSub, jsonObjectBody } from '../http/request';
import { defaultMessaging } from '../runtime/messaging';

export const createCreateMessageHandler = messagingRoute(async (event, messaging) => {
  const sub = callerSub(event);
  const body = jsonObjectBody(event);
  // 200, not 201: the Cruddur frontend checks for 200.
  return jsonResponse(200, await (await messaging()).createMessage(sub, body));
});

export const handler = createCreateMessageHandler({ messaging: defaultMessaging });
