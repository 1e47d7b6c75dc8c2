/** `GET /api/message_groups` (pattern B): the caller's conversations, newest first, paged. */
import { httpHandler, pageResponse, type HttpHandlerOptions } from '../http/handler';
import { callerSub, pageQuery } from '../http/request';
import type { Messaging } from '../domain/messaging';
import { defaultMessaging } from '../runtime/messaging';

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
