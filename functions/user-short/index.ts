/**
 * `GET /api/users/@{handle}/short`: a person's short profile for the new-conversation page.
 * A public route (no authorizer), as in the original: the Cruddur frontend calls it without
 * a token.
 */
import { jsonResponse } from '../http/handler';
import { messagingRoute } from '../http/messaging-route';
import { pathParameter } from '../http/request';
import { defaultMessaging } from '../wiring/defaults';

export const createUserShortHandler = messagingRoute(async (event, messaging) =>
  // The route is /api/users/{handle}/short, so the parameter arrives as `@handle`.
  jsonResponse(200, await (await messaging()).getUserShort(pathParameter(event, 'handle'))),
);

export const handler = createUserShortHandler({ messaging: defaultMessaging });
