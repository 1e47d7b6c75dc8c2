/**
 * WebSocket route `typing`: a client's `{"action": "typing", "message_group_uuid": "…"}` reaches
 * the other member's open connections as `{"type": "typing", message_group_uuid, handle}`.
 * Nothing about the frame is stored. The sender is known by its connection: the connection id
 * comes from API Gateway, and finding it among one member's connection items proves both who
 * sent the frame and that they are in the group; the same conditional write forwards at most
 * one frame per connection per {@link TYPING_INTERVAL_MS} (the others are dropped). A malformed
 * frame, or a group the sender is not in, gets `{"type": "error", …}` on the sender's connection.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { createConnectionsRepository, type ConnectionsRepository } from '../data/connections-repository';
import type { Participant } from '../data/model';
import { TtlCache } from '../domain/cache';
import { sharedDocumentClient } from '../clients/dynamodb';
import { functionConfig } from '../config/function-config';
import { createConnectionPoster, websocketManagementUrlFromEnv, type ConnectionPoster } from '../clients/websocket-connections';
import { logger, withInvocationContext } from '../observability/logger';
import { TYPING_ACTION, TYPING_INTERVAL_MS } from '../catalog';
import { parseTypingFrame } from '../websocket/client-frames';
import type { FrameRefusal, TypingPush } from '../websocket/frames';
import type { WebSocketRouteEvent } from '../websocket/route-event';

export interface TypingDeps {
  connections: () => ConnectionsRepository;
  post: () => ConnectionPoster;
  logger: Logger;
}

/** One answer for "no such group" and "not your group", as the HTTP API gives. */
const NOT_FOUND = 'Message group not found';

export function createTypingHandler(deps: TypingDeps) {
  // A group's members never change: kept for a day of the container's life.
  const members = new TtlCache<string, readonly Participant[]>({ ttlMs: 24 * 60 * 60 * 1000, maxEntries: 10_000 });

  return withInvocationContext(deps.logger, async function typing(event: WebSocketRouteEvent, _context: Context): Promise<APIGatewayProxyResultV2> {
    const connectionId = event.requestContext.connectionId;
    const post = deps.post();
    const refuse = async (statusCode: number, message: string) => {
      const refusal: FrameRefusal = { type: 'error', action: TYPING_ACTION, message };
      await post(connectionId, JSON.stringify(refusal));
      return { statusCode };
    };
    const parsed = parseTypingFrame(event.body);
    if ('problem' in parsed) return refuse(400, parsed.problem);
    const groupUuid = parsed.messageGroupUuid;

    const repository = deps.connections();
    const participants = await members.getOrLoad(groupUuid, async (uuid) => (await repository.participantsOf(uuid)) ?? undefined);
    if (participants === undefined) return refuse(404, NOT_FOUND);
    // The connection is under one member's items at most: that member sent the frame.
    const turns = await Promise.all(participants.map((member) => repository.takeTypingTurn(member.user_uuid, connectionId, TYPING_INTERVAL_MS)));
    const senderIndex = turns.findIndex((turn) => turn !== 'not-theirs');
    if (senderIndex < 0) return refuse(404, NOT_FOUND);
    if (turns[senderIndex] === 'too-soon') return { statusCode: 429 };

    const sender = participants[senderIndex]!;
    const other = participants[1 - senderIndex]!;
    const frame: TypingPush = { type: 'typing', message_group_uuid: groupUuid, handle: sender.handle };
    const targets = await repository.connectionsOf(other.user_uuid);
    const outcomes = await Promise.all(
      targets.map(async (target) => {
        const outcome = await post(target.connection_id, JSON.stringify(frame));
        if (outcome === 'gone') await repository.removeConnection(other.user_uuid, target.connection_id).catch(() => undefined);
        return outcome;
      }),
    );
    deps.logger.debug('Typing forwarded', { groupUuid, connections: targets.length, sent: outcomes.filter((outcome) => outcome === 'sent').length });
    return { statusCode: 200 };
  });
}

let poster: ConnectionPoster | undefined;

export const handler = createTypingHandler({
  connections: () => createConnectionsRepository(sharedDocumentClient(), { tableName: functionConfig().tableName }),
  post: () =>
    (poster ??= createConnectionPoster(websocketManagementUrlFromEnv(), (connectionId, error) =>
      logger.warn('Typing frame to a connection failed', { connectionId, error: `${error.name}: ${error.message}` }),
    )),
  logger,
});
