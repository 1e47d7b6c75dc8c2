/**
 * Counting unread messages from the messages themselves (data/model/read-state.ts says what is
 * counted). Only a key range of one group's messages is read, with the two attributes a count
 * needs, strongly consistent: the count goes into a write conditioned on the same reading.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from './model';
import { queryPages } from './query-pages';

/** Per member (in the group's member order): count the other member's messages with a key after this one; undefined: all of them. */
export type CountFrom = readonly [string | undefined, string | undefined];

export function createUnreadCounter(client: DynamoDBDocumentClient, tableName: string) {
  /**
   * For each member, the other member's messages with a key after `after[i]` and up to `upTo`.
   * One Query over the union of the two ranges, paged (a long unread backlog costs its size
   * in reads, once: later counts start from the last one).
   */
  async function count(groupUuid: string, memberUuids: readonly [string, string], after: CountFrom, upTo: string): Promise<[number, number]> {
    const counts: [number, number] = [0, 0];
    // Keys compare as strings: the lower of the two markers, or no bound when either member has none.
    const lowest = after[0] === undefined || after[1] === undefined ? undefined : [after[0], after[1]].sort()[0];
    if (lowest !== undefined && lowest >= upTo) return counts;
    const pages = queryPages(client, {
      TableName: tableName,
      // BETWEEN includes its lower bound: the message at a marker is skipped below.
      KeyConditionExpression: lowest === undefined ? 'pk = :pk AND sk <= :to' : 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': keys.messagePartition(groupUuid), ':to': upTo, ...(lowest === undefined ? {} : { ':from': lowest }) },
      ProjectionExpression: 'sk, user_uuid',
      ConsistentRead: true,
    });
    for await (const page of pages) {
      for (const item of page) {
        const { sk, user_uuid: sender } = item as { sk: string; user_uuid: string };
        for (const index of [0, 1] as const) {
          const from = after[index];
          if (sender !== memberUuids[index] && (from === undefined || sk > from)) counts[index] += 1;
        }
      }
    }
    return counts;
  }

  return { count };
}
