/**
 * `POST /api/messages`: `{message, message_group_uuid}` appends to a conversation the caller
 * is in (pattern C); `{message, handle}` writes to a person, in the pair's one conversation (pattern D).
 */
import { callerSub, httpHandler, jsonObjectBody, jsonResponse, type HttpHandlerOptions } from '../commons/http';
import type { Messaging } from '../commons/messaging';
import { defaultMessaging } from '../commons/messaging-runtime';

export interface CreateMessageDependencies extends HttpHandlerOptions {
  messaging: () => Messaging | Promise<Messaging>;
}

export function createCreateMessageHandler(deps: CreateMessageDependencies) {
  return httpHandler(async (event) => {
    const sub = callerSub(event);
    const body = jsonObjectBody(event);
    const messaging = await deps.messaging();
    // 200, not 201: the Cruddur frontend checks for 200.
    return jsonResponse(200, await messaging.createMessage(sub, body));
  }, deps);
}

export const handler = createCreateMessageHandler({ messaging: defaultMessaging });
