/**
 * `POST /api/messages`: `{message, message_group_uuid}` appends to a conversation the caller
 * is in (pattern C); `{message, handle}` writes to a person, in the pair's one conversation (pattern D).
 * With an `Idempotency-Key` header, a retry gets the first answer again and stores nothing.
 */
import { IDEMPOTENT_REPLAYED_HEADER } from '../catalog';
import { jsonResponse } from '../http/handler';
import { messagingRoute } from '../http/messaging-route';
import { callerSub, idempotencyKey, jsonObjectBody } from '../http/request';
import { defaultMessaging } from '../wiring/defaults';
import { RateLimitedError } from '../errors';
import { BUSINESS_METRICS, count, publishingMetrics } from '../observability/metrics';

export const createCreateMessageHandler = messagingRoute(
  publishingMetrics(async (event, messaging) => {
    const sub = callerSub(event);
    const key = idempotencyKey(event);
    const body = jsonObjectBody(event);
    const { answer, replayed } = await (await messaging()).createMessage(sub, body, key).catch((error: unknown) => {
      if (error instanceof RateLimitedError) count(BUSINESS_METRICS.postsRateLimited);
      throw error;
    });
    if (!replayed) count(BUSINESS_METRICS.messagesCreated);
    // 200, not 201: the Cruddur frontend checks for 200.
    return jsonResponse(200, answer, replayed ? { [IDEMPOTENT_REPLAYED_HEADER]: 'true' } : {});
  }),
);

export const handler = createCreateMessageHandler({ messaging: defaultMessaging });
