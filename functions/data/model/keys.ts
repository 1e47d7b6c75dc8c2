/** Key formats of every item type: the one place that spells a `pk` or an `sk`. */
import { KeyPrefix, type TableKey } from './table';
import { timeOrderedKey, type IsoTimestamp } from './time';

export const GROUP_SK = 'META';
export const PAIR_SK = 'PAIR';
export const IDEMPOTENCY_SK = 'REQUEST';
const DIRECTORY_SK = 'USER';

export const keys = {
  message: (groupUuid: string, createdAt: IsoTimestamp, messageUuid: string): TableKey => ({
    pk: `${KeyPrefix.message}${groupUuid}`,
    sk: timeOrderedKey(createdAt, messageUuid),
  }),
  messagePartition: (groupUuid: string): string => `${KeyPrefix.message}${groupUuid}`,
  groupSummary: (ownerUuid: string, lastMessageAt: IsoTimestamp, groupUuid: string): TableKey => ({
    pk: `${KeyPrefix.groupSummary}${ownerUuid}`,
    sk: timeOrderedKey(lastMessageAt, groupUuid),
  }),
  groupSummaryPartition: (ownerUuid: string): string => `${KeyPrefix.groupSummary}${ownerUuid}`,
  group: (groupUuid: string): TableKey => ({ pk: `${KeyPrefix.group}${groupUuid}`, sk: GROUP_SK }),
  idempotency: (userUuid: string, key: string): TableKey => ({ pk: `${KeyPrefix.idempotency}${userUuid}#${key}`, sk: IDEMPOTENCY_SK }),
  /** One open WebSocket of a user: all of a user's connections are one Query of `CONN#{user}`. */
  connection: (userUuid: string, connectionId: string): TableKey => ({ pk: `${KeyPrefix.connection}${userUuid}`, sk: connectionId }),
  connectionPartition: (userUuid: string): string => `${KeyPrefix.connection}${userUuid}`,
  /** The user directory's entry of a Cognito `sub`, and of a handle. */
  userBySub: (sub: string): TableKey => ({ pk: `${KeyPrefix.userBySub}${sub}`, sk: DIRECTORY_SK }),
  userByHandle: (handle: string): TableKey => ({ pk: `${KeyPrefix.userByHandle}${handle}`, sk: DIRECTORY_SK }),
  /** A user's count of `action` requests in the window starting at `windowStartSeconds` (data/model/rate-limit.ts). */
  rateWindow: (sub: string, action: string, windowStartSeconds: number): TableKey => ({
    pk: `${KeyPrefix.rateLimit}${sub}`,
    sk: `${action}#${windowStartSeconds}`,
  }),
  /** A read receipt of a group (data/model/read-state.ts). */
  receipt: (groupUuid: string, sortKey: string): TableKey => ({ pk: `${KeyPrefix.receipt}${groupUuid}`, sk: sortKey }),
  pair: (userA: string, userB: string): TableKey => {
    const [low, high] = [userA, userB].sort();
    return { pk: `${KeyPrefix.pair}${low}#${high}`, sk: PAIR_SK };
  },
};

/** The group uuid of a message item's partition key, or undefined for other items. */
export function groupUuidOfMessageKey(pk: string): string | undefined {
  return pk.startsWith(KeyPrefix.message) ? pk.slice(KeyPrefix.message.length) : undefined;
}
