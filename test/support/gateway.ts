/** The local HTTP gateway over the real HTTP handlers and a messaging of the test's own (tables, users). */
import type { HttpFunction } from '../../functions/catalog';
import type { Messaging } from '../../functions/domain/conversations';
import { createCountUnreadHandler } from '../../functions/count-unread/index';
import { createCreateMessageHandler } from '../../functions/create-message/index';
import { createListMessageGroupsHandler } from '../../functions/list-message-groups/index';
import { createListMessagesHandler } from '../../functions/list-messages/index';
import { createMarkReadHandler } from '../../functions/mark-read/index';
import { createUserShortHandler } from '../../functions/user-short/index';
import { createLocalCognitoAuthorizer } from '../../local/gateway/auth';
import { startGateway, type HttpHandler, type RunningGateway } from '../../local/gateway/server';
import { servicePorts } from './services';

/** Every HTTP function of the catalog, by name, over `messaging`. */
function messagingHandlers(messaging: Messaging): Record<string, HttpHandler> {
  const deps = { messaging: () => messaging };
  return {
    'list-message-groups': createListMessageGroupsHandler(deps) as HttpHandler,
    'list-messages': createListMessagesHandler(deps) as HttpHandler,
    'create-message': createCreateMessageHandler(deps) as HttpHandler,
    'mark-read': createMarkReadHandler(deps) as HttpHandler,
    'count-unread': createCountUnreadHandler(deps) as HttpHandler,
    'user-short': createUserShortHandler(deps) as HttpHandler,
  };
}

/** The gateway on a free port, authorizing tokens of `pool` as npm start does. */
export function startMessagingGateway(options: {
  messaging: Messaging;
  pool: { userPoolId: string; clientId: string };
  log: (line: string) => void;
}): Promise<RunningGateway> {
  const handlers = messagingHandlers(options.messaging);
  return startGateway({
    port: 0,
    // cognito-local writes `iss` with 127.0.0.1, as npm start's authorizer expects it.
    authorizer: createLocalCognitoAuthorizer({ cognitoUrl: `http://127.0.0.1:${servicePorts().cognito}`, ...options.pool }),
    handlerFor: async (fn: HttpFunction) => handlers[fn.name]!,
    log: options.log,
  });
}
