/** `GET /api/messages/{message_group_uuid}` (pattern A): a conversation the caller is in, oldest first, paged back in time. */
import { httpHandler, pageResponse, type HttpHandlerOptions } from '../http/handler';
import { callerSub, pageQuery, pathParameter } from '../http/request';
import type { Messaging } from '../domain/messaging';
import { defaultMessaging } from '../runtime/messaging';

export interface ListMessagesDependencies extends HttpHandlerOptions {
  messaging: () => Messaging | Promise<Messaging>;
}

export function createListMessagesHandler(deps: ListMessagesDependencies) {
  return httpHandler(async (event) => {
    const sub = callerSub(event);
    const messaging = await deps.messaging();
    return pageResponse(await messaging.listMessages(sub, pathParameter(event, 'message_group_uuid'), pageQuery(event)));
  }, deps);
}

export const handler = createListMessagesHandler({ messaging: defaultMessaging });
