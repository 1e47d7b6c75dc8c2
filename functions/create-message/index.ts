/**
 * `POST /api/messages`: `{message, message_group_uuid}` appends to a conversation the caller
 * is in (pattern C); `{message, handle}` writes to a person, in the pair's one conversation (pattern D).
 */
import { httpHandler, jsonResponse, type HttpHandlerOptions } from '../http/handler';
import { callerSub, jsonObjectBody } from '../http/request';
import type { Messaging } from '../domain/messaging';
import { defaultMessaging } from '../runtime/messaging';

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
