/** `GET /api/message_groups` (pattern B): the caller's conversations, newest first, paged. */
import { pageResponse } from '../http/handler';
import { messagingRoute } from '../http/messaging-route';
import { callerSub, pageQuery } from '../http/request';
import { defaultMessaging } from '../wiring/defaults';

export const createListMessageGroupsHandler = messagingRoute(async (event, messaging) => {
  const sub = callerSub(event);
  return pageResponse(await (await messaging()).listMessageGroups(sub, pageQuery(event)));
});

export const handler = createListMessageGroupsHandler({ messaging: defaultMessaging });
