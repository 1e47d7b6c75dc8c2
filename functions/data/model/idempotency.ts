/**
 * The record of a request made idempotent by its caller's `Idempotency-Key` (the IETF
 * draft's header): `pk = IDEMPOTENCY#{user}#{key}`, `sk = REQUEST`. It is written in the same
 * transaction as the message it created, so it exists exactly when the message does, and
 * holds the answer a retry of the same request gets. `expires_at` is the table's TTL
 * attribute: DynamoDB deletes the record a day later (and until it does, an expired record
 * counts as absent).
 */
import { IDEMPOTENCY_SK, keys } from './keys';
import type { CreatedMessageView } from './message';
import type { IsoTimestamp } from './time';

/** How long a key answers with its first answer. */
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export interface IdempotencyItem {
  pk: string;
  sk: typeof IDEMPOTENCY_SK;
  /** What the request asked for (a hash of it): the same key with another request is refused. */
  request_hash: string;
  /** The answer of the request, as the API gave it. */
  response: CreatedMessageView;
  created_at: IsoTimestamp;
  /** Epoch seconds; the table's TTL attribute. */
  expires_at: number;
}

export function buildIdempotencyItem(input: {
  userUuid: string;
  key: string;
  requestHash: string;
  response: CreatedMessageView;
  createdAt: IsoTimestamp;
}): IdempotencyItem {
  return {
    ...keys.idempotency(input.userUuid, input.key),
    sk: IDEMPOTENCY_SK,
    request_hash: input.requestHash,
    response: input.response,
    created_at: input.createdAt,
    expires_at: Math.floor(Date.parse(input.createdAt) / 1000) + IDEMPOTENCY_TTL_SECONDS,
  };
}

/** Whether the record still answers at `nowMs` (DynamoDB's TTL deletes late, up to days). */
export const isLiveIdempotencyItem = (item: IdempotencyItem, nowMs: number) => item.expires_at * 1000 > nowMs;
