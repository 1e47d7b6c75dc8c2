/** `GET /api/messages/{message_group_uuid}` (pattern A): a conversation the caller is in, oldest first, paged back in time. */
import { callerSub, httpHandler, pageQuery, pageResponse, pathParameter, type HttpHandlerOptions } from '../commons/http';
import type { Messaging } from '../commons/messaging';
import { defaultMessaging } from '../commons/messaging-runtime';

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
