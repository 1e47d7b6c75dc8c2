/**
 * The read-state invariant, recomputed from the table (for the tests and the soak): for each
 * member of a group, the unread count the group item and the member's summary hold equals the
 * other member's messages after the member's read marker, up to the group's last message; and
 * the summary's `last_read_at` is the group item's. Each difference is a violation (drift).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryPages } from '../../functions/data/query-pages';
import { keys, readStateOf, type MessageGroupItem, type MessageGroupSummaryItem, type MessageItem } from '../../functions/data/model';

async function queryAll<T>(client: DynamoDBDocumentClient, tableName: string, pk: string): Promise<T[]> {
  const items: T[] = [];
  const pages = queryPages<T>(client, {
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': pk },
    ConsistentRead: true,
  });
  for await (const page of pages) items.push(...page);
  return items;
}

/** What one member's read state should be, and is. */
export interface MemberReadCheck {
  memberUuid: string;
  expectedUnread: number;
  groupUnread: number | undefined;
  summaryUnread: number | undefined;
}

/** The read state of one group, recomputed from its messages (each with its sender and key) and compared with its items. */
export function readStateViolations(
  groupUuid: string,
  group: MessageGroupItem,
  messages: readonly Pick<MessageItem, 'sk' | 'user_uuid'>[],
  summaries: readonly MessageGroupSummaryItem[],
): { violations: string[]; members: MemberReadCheck[] } {
  const violations: string[] = [];
  const members: MemberReadCheck[] = [];
  for (const memberUuid of group.member_uuids) {
    const state = readStateOf(group, memberUuid);
    const expectedUnread = messages.filter(
      (message) => message.user_uuid !== memberUuid && message.sk <= group.last_message_sk && (state.marker === undefined || message.sk > state.marker),
    ).length;
    const own = summaries.filter((summary) => summary.pk === keys.groupSummaryPartition(memberUuid) && summary.message_group_uuid === groupUuid);
    const summary = own[0];
    members.push({ memberUuid, expectedUnread, groupUnread: state.unread, summaryUnread: summary?.unread_count });
    const where = `group ${groupUuid}, member ${memberUuid}`;
    if (own.length !== 1) violations.push(`${where}: ${own.length} summaries`);
    if (state.unread !== expectedUnread) violations.push(`${where}: the group item counts ${state.unread} unread, the messages say ${expectedUnread}`);
    if (summary !== undefined && summary.unread_count !== expectedUnread) {
      violations.push(`${where}: the summary counts ${summary.unread_count} unread, the messages say ${expectedUnread}`);
    }
    if (summary !== undefined && summary.last_read_at !== state.readAt) {
      violations.push(`${where}: the summary says last read ${summary.last_read_at}, the group item ${state.readAt}`);
    }
  }
  return { violations, members };
}

/** Every violation of the invariant in one group (empty: none), read from the table. */
export async function readStateDrift(
  client: DynamoDBDocumentClient,
  tableName: string,
  groupUuid: string,
): Promise<{ violations: string[]; members: MemberReadCheck[] }> {
  const [group] = await queryAll<MessageGroupItem>(client, tableName, keys.group(groupUuid).pk);
  if (group === undefined) return { violations: [`group ${groupUuid}: no group item`], members: [] };
  const messages = await queryAll<MessageItem>(client, tableName, keys.messagePartition(groupUuid));
  const summaries = (
    await Promise.all(group.member_uuids.map((member) => queryAll<MessageGroupSummaryItem>(client, tableName, keys.groupSummaryPartition(member))))
  ).flat();
  return readStateViolations(groupUuid, group, messages, summaries);
}
