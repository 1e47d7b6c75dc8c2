/** `GET /api/messages/{message_group_uuid}` (pattern A): a conversation the caller is in, oldest first, paged back in time. */
import { pageResponse } from '../http/handler';
import { messagingRoute } from '../http/messaging-route';
import { callerSub, pageQuery, pathParameter } from '../http/request';
import { defaultMessaging } from '../wiring/defaults';

export const createListMessagesHandler = messagingRoute(async (event, messaging) => {
  const sub = callerSub(event);
  return pageResponse(await (await messaging()).listMessages(sub, pathParameter(event, 'message_group_uuid'), pageQuery(event)));
});

export const handler = createListMessagesHandler({ messaging: defaultMessaging });
