/** `GET /api/message_groups` (pattern B): the caller's conversations, newest first, paged. */
import { callerSub, httpHandler, pageQuery, pageResponse, type HttpHandlerOptions } from '../commons/http';
import type { Messaging } from '../commons/messaging';
import { defaultMessaging } from '../commons/messaging-runtime';

export interface ListMessageGroupsDependencies extends HttpHandlerOptions {
  messaging: () => Messaging | Promise<Messaging>;
}

export function createListMessageGroupsHandler(deps: ListMessageGroupsDependencies) {
  return httpHandler(async (event) => {
    const sub = callerSub(event);
    const messaging = await deps.messaging();
    return pageResponse(await messaging.listMessageGroups(sub, pageQuery(event)));
  }, deps);
}

export const handler = createListMessageGroupsHandler({ messaging: defaultMessaging });
