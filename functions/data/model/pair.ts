/** The pair item (`PAIR#{low}#{high}`): one group per pair of users (defect 6). */
import { keys, PAIR_SK } from './keys';
import type { IsoTimestamp } from './time';

/**
 * Uniqueness of a pair of users: `pk = PAIR#{lower uuid}#{higher uuid}`, `sk = PAIR`,
 * written with `attribute_not_exists` in the transaction that creates the group, so two
 * concurrent creates for one pair cannot both succeed (defect 6).
 */
export interface PairItem {
  pk: string;
  sk: typeof PAIR_SK;
  group_uuid: string;
  created_at: IsoTimestamp;
}

export function buildPairItem(userA: string, userB: string, groupUuid: string, createdAt: IsoTimestamp): PairItem {
  return { ...keys.pair(userA, userB), sk: PAIR_SK, group_uuid: groupUuid, created_at: createdAt };
}
