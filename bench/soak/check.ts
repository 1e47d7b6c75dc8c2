/**
 * The soak's checker: what must hold in the table once the stream has drained, given what
 * the API answered. Pure over a snapshot of the table (so a unit test can show it reports
 * each kind of violation), plus the one function that reads the snapshot.
 *
 * Which answers are violations (see {@link classifyResponse}):
 * - 2xx: accepted. The message must be stored exactly once, under the uuid the API
 *   returned, with the text sent, in the group it named.
 * - 503 with Retry-After, or 429, while faults are injected: a refusal the client may
 *   retry. The API says "nothing was saved", so the text must not be stored at all.
 * - Any other status (4xx: the soak only sends valid requests; 500/502/504: a bug, or a
 *   timeout whose outcome nobody knows), any 503/429 without injected faults, and no
 *   answer at all: violations. The message's outcome is unknown, so it may be stored
 *   once, never twice.
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeadLetter } from '../../local/streams/dead-letters';
import {
  KeyPrefix,
  buildGroupSummaryItems,
  groupUuidOf,
  groupUuidOfMessageKey,
  keys,
  type MessageGroupItem,
  type MessageGroupSummaryItem,
  type MessageItem,
  type PairItem,
  type TableKey,
} from '../../functions/data/model';
import { UNPLACEABLE_MESSAGE } from '../../functions/message-stream/summaries';
import { readStateViolations } from '../lib/read-state-check';

/** A stored message as the checker sees it (any `MSG#` item, well-formed or not). */
interface StoredMessage {
  pk: string;
  sk: string;
  message_uuid?: unknown;
  message?: unknown;
  user_uuid?: unknown;
  created_at?: unknown;
}

export interface TableSnapshot {
  messages: StoredMessage[];
  summaries: MessageGroupSummaryItem[];
  groups: MessageGroupItem[];
  pairs: PairItem[];
}

export type Outcome = 'accepted' | 'rejected' | 'unknown';

/** A message the soak sent, and what the API answered. */
export interface SentMessage {
  text: string;
  senderHandle: string;
  pattern: 'C' | 'D';
  /** Undefined: no answer (connection error, client timeout). */
  status?: number;
  outcome: Outcome;
  /** From a 2xx answer. */
  uuid?: string;
  groupUuid?: string;
}

/** An answer the soak did not expect (a violation in itself). */
export interface UnexpectedResponse {
  request: string;
  status?: number;
  detail: string;
}

/** A record written straight into the table that the stream function cannot apply. */
export interface PoisonRecord {
  /** `orphan`: a well-formed message of a group that does not exist (fails, then dead-lettered); `malformed`: lacks a message's fields (skipped). */
  kind: 'orphan' | 'malformed';
  key: TableKey;
}

/** One line of the stream consumer's dead-letter file, as far as the checker reads it. */

export type ViolationKind =
  | 'lost'
  | 'duplicated'
  | 'altered'
  | 'rejected-but-stored'
  | 'unexpected-status'
  | 'empty-group'
  | 'stale-summary'
  | 'summary-count'
  | 'two-groups-for-pair'
  | 'pair-item'
  | 'orphan-message'
  | 'poison-not-reported'
  | 'poison-dead-lettered'
  | 'message-dead-lettered'
  | 'consumer-not-resumed'
  | 'push-missing'
  | 'push-duplicated'
  | 'push-to-stranger'
  | 'unread-drift'
  | 'receipt-misdirected'
  | 'typing-misdirected';

export interface Violation {
  kind: ViolationKind;
  detail: string;
}

export interface CheckInput {
  sent: readonly SentMessage[];
  unexpected: readonly UnexpectedResponse[];
  snapshot: TableSnapshot;
  deadLetters?: readonly DeadLetter[];
  poison?: readonly PoisonRecord[];
  /** Keys (`pk / sk`) the stream function logged as records it can never apply. */
  unplaceable?: ReadonlySet<string>;
  /** Only groups between these users (and messages they sent) are checked; every group when absent. */
  userUuids?: ReadonlySet<string>;
}

/** Whether an answer was an acceptance, an allowed refusal, or a violation. */
export function classifyResponse(status: number | undefined, retryAfter: boolean, faultsInjected: boolean): { outcome: Outcome; violation: boolean } {
  if (status === undefined) return { outcome: 'unknown', violation: true };
  if (status >= 200 && status < 300) return { outcome: 'accepted', violation: false };
  if ((status === 503 && retryAfter) || status === 429) return { outcome: 'rejected', violation: !faultsInjected };
  if (status >= 400 && status < 500) return { outcome: 'rejected', violation: true };
  return { outcome: 'unknown', violation: true };
}

const keyText = (key: TableKey) => `${key.pk} / ${key.sk}`;
const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);

function countBy<T>(items: readonly T[], keyOf: (item: T) => unknown): Map<unknown, T[]> {
  const map = new Map<unknown, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    map.set(key, [...(map.get(key) ?? []), item]);
  }
  return map;
}

/** Every violation of the soak's invariants, in a stable order. */
export function checkSoak(input: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const add = (kind: ViolationKind, detail: string) => violations.push({ kind, detail });
  const { snapshot } = input;
  const inScope = (...uuids: unknown[]) => input.userUuids === undefined || uuids.every((uuid) => typeof uuid === 'string' && input.userUuids!.has(uuid));

  for (const response of input.unexpected) add('unexpected-status', `${response.request} answered ${response.status ?? 'nothing'}: ${response.detail}`);

  // Messages: each accepted one stored once, as sent; refused ones not at all; unknown ones at most once.
  const byUuid = countBy(snapshot.messages, (item) => item.message_uuid);
  const byText = countBy(snapshot.messages, (item) => item.message);
  for (const sent of input.sent) {
    const copies = byText.get(sent.text) ?? [];
    if (sent.outcome === 'accepted') {
      const stored = byUuid.get(sent.uuid) ?? [];
      if (stored.length === 0 && copies.length === 0) {
        add('lost', `${sent.pattern} message ${sent.uuid} from @${sent.senderHandle} (answered ${sent.status}) is not in the table: ${quote(sent.text)}`);
        continue;
      }
      if (copies.length > 1 || stored.length > 1) {
        add(
          'duplicated',
          `${sent.pattern} message ${quote(sent.text)} from @${sent.senderHandle} is stored ${Math.max(copies.length, stored.length)} times: ${copies.map((item) => keyText(item)).join(', ')}`,
        );
        continue;
      }
      const item = stored[0];
      if (item === undefined || item.message !== sent.text || item.pk !== keys.messagePartition(sent.groupUuid ?? '')) {
        add(
          'altered',
          `message ${sent.uuid} was answered as ${quote(sent.text)} in group ${sent.groupUuid} but is stored as ${item ? `${quote(String(item.message))} at ${keyText(item)}` : `another uuid at ${keyText(copies[0]!)}`}`,
        );
      }
    } else if (sent.outcome === 'rejected' && copies.length > 0) {
      add(
        'rejected-but-stored',
        `${sent.pattern} message ${quote(sent.text)} from @${sent.senderHandle} was refused with ${sent.status} but is stored at ${keyText(copies[0]!)}`,
      );
    } else if (sent.outcome === 'unknown' && copies.length > 1) {
      add('duplicated', `${sent.pattern} message ${quote(sent.text)} (answered ${sent.status ?? 'nothing'}) is stored ${copies.length} times`);
    }
  }

  // Groups: a newest message, both summaries at it, one group per pair.
  const poisonKeys = new Set((input.poison ?? []).map((poison) => keyText(poison.key)));
  const groups = snapshot.groups.filter((group) => inScope(...group.member_uuids));
  const groupUuids = new Set(snapshot.groups.map(groupUuidOf));
  const messagesOf = countBy(snapshot.messages, (item) => groupUuidOfMessageKey(item.pk));
  const summariesOf = countBy(snapshot.summaries, (item) => item.message_group_uuid);
  for (const group of groups) {
    const groupUuid = groupUuidOf(group);
    const messages = (messagesOf.get(groupUuid) ?? []).filter((item) => typeof item.message === 'string');
    if (messages.length === 0) {
      add('empty-group', `group ${groupUuid} has no message`);
      continue;
    }
    const newest = messages.reduce((a, b) => (b.sk > a.sk ? b : a));
    const newestText = newest.message as string;
    if (group.last_message_sk !== newest.sk || group.last_message !== newestText) {
      add('stale-summary', `group ${groupUuid}'s item is at ${group.last_message_sk}, its newest message at ${newest.sk}`);
    }
    const summaries = summariesOf.get(groupUuid) ?? [];
    const owners = new Set(summaries.map((summary) => summary.pk));
    const expected = buildGroupSummaryItems({ groupUuid, members: group.members, lastMessageSk: newest.sk, lastMessage: newestText });
    if (summaries.length !== 2 || expected.some((summary) => !owners.has(summary.pk))) {
      add(
        'summary-count',
        `group ${groupUuid} has ${summaries.length} summary item(s) (${[...owners].join(', ') || 'none'}), expected one for each of ${group.member_uuids.join(' and ')}`,
      );
      continue;
    }
    for (const want of expected) {
      const have = summaries.find((summary) => summary.pk === want.pk)!;
      if (have.sk !== want.sk || have.message !== want.message || have.user_uuid !== want.user_uuid) {
        add(
          'stale-summary',
          `${want.pk}'s summary of group ${groupUuid} shows ${quote(String(have.message))} (${have.sk}), its newest message is ${quote(newestText)} (${want.sk})`,
        );
      }
    }
    // Read state: each member's unread count, recounted from the messages and their marker.
    for (const detail of readStateViolations(groupUuid, group, messages as MessageItem[], summaries).violations) add('unread-drift', detail);
  }
  for (const summary of snapshot.summaries) {
    if (!groupUuids.has(summary.message_group_uuid) && inScope(summary.user_uuid))
      add('summary-count', `summary ${keyText(summary)} belongs to group ${summary.message_group_uuid}, which has no group item`);
  }
  const pairKey = (group: MessageGroupItem) => keys.pair(group.member_uuids[0], group.member_uuids[1]).pk;
  const pairs = new Map(snapshot.pairs.map((pair) => [pair.pk, pair]));
  for (const [pk, same] of countBy(groups, pairKey)) {
    if (same.length > 1)
      add('two-groups-for-pair', `${same.length} groups for one pair (${same[0]!.member_uuids.join(' and ')}): ${same.map(groupUuidOf).join(', ')}`);
    const pair = pairs.get(pk as string);
    if (pair === undefined || !same.some((group) => groupUuidOf(group) === pair.group_uuid)) {
      add('pair-item', `pair ${pk as string} ${pair ? `names group ${pair.group_uuid}, not` : 'is missing for'} ${same.map(groupUuidOf).join(', ')}`);
    }
  }
  for (const item of snapshot.messages) {
    const groupUuid = groupUuidOfMessageKey(item.pk)!;
    if (!groupUuids.has(groupUuid) && !poisonKeys.has(keyText(item)) && inScope(item.user_uuid)) add('orphan-message', `message ${keyText(item)} has no group`);
  }

  // An orphan poison record is reported at once as one that can never be applied, and not
  // retried into the dead-letter file; nothing else is dead-lettered either.
  for (const poison of input.poison ?? []) {
    if (poison.kind === 'orphan' && !input.unplaceable?.has(keyText(poison.key)))
      add('poison-not-reported', `poison record ${keyText(poison.key)} was not reported as one that can never be applied`);
  }
  for (const letter of input.deadLetters ?? []) {
    const key = { pk: letter.record?.dynamodb?.Keys?.pk?.S ?? '', sk: letter.record?.dynamodb?.Keys?.sk?.S ?? '' };
    add(poisonKeys.has(keyText(key)) ? 'poison-dead-lettered' : 'message-dead-lettered', `record ${keyText(key)} was dead-lettered (${letter.reason})`);
  }
  return violations;
}

/** The counts of violations by kind, most frequent first. */
export function violationCounts(violations: readonly Violation[]): [ViolationKind, number][] {
  const counts = new Map<ViolationKind, number>();
  for (const violation of violations) counts.set(violation.kind, (counts.get(violation.kind) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** The whole table, read consistently, sorted into item types. */
export async function readTableSnapshot(client: DynamoDBDocumentClient, tableName: string): Promise<TableSnapshot> {
  const snapshot: TableSnapshot = { messages: [], summaries: [], groups: [], pairs: [] };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) {
      const pk = String(item.pk);
      if (pk.startsWith(KeyPrefix.message)) snapshot.messages.push(item as StoredMessage);
      else if (pk.startsWith(KeyPrefix.groupSummary)) snapshot.summaries.push(item as MessageGroupSummaryItem);
      else if (pk.startsWith(KeyPrefix.group)) snapshot.groups.push(item as MessageGroupItem);
      else if (pk.startsWith(KeyPrefix.pair)) snapshot.pairs.push(item as PairItem);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return snapshot;
}

/**
 * The keys the stream function reported as records it can never apply, from its log lines
 * (JSON lines of the Powertools logger; other lines are passed over).
 */
export function unplaceableKeys(logLines: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const line of logLines) {
    if (!line.includes(UNPLACEABLE_MESSAGE)) continue;
    try {
      const entry = JSON.parse(line) as { message?: string; keys?: TableKey[] };
      if (entry.message === UNPLACEABLE_MESSAGE) for (const key of entry.keys ?? []) found.add(keyText(key));
    } catch {
      // Not a JSON log line.
    }
  }
  return found;
}

/** What one listener (a user's open WebSocket, open for the whole soak) received. */
export interface ListenerLog {
  userUuid: string;
  handle: string;
  /** Message uuids and groups of the pushes, in arrival order. */
  pushes: { uuid: string; groupUuid: string }[];
  /** Read receipts: whose, in which group. */
  receipts: { handle: string; groupUuid: string }[];
  /** Typing indicators: who types, in which group. */
  typing: { handle: string; groupUuid: string }[];
}

/**
 * Real-time delivery: every message stored in a group since the listeners opened reached
 * each member's listener exactly once, and no listener got a message of a group it is not in;
 * a read receipt reaches only the group's members and names one of them; a typing frame
 * reaches only the other member, and names the one typing.
 */
export function checkPushes(input: { snapshot: TableSnapshot; listeners: readonly ListenerLog[]; since: string }): Violation[] {
  const violations: Violation[] = [];
  const membersOf = new Map(input.snapshot.groups.map((group) => [groupUuidOf(group), new Set(group.member_uuids)]));
  const byUser = new Map(input.listeners.map((listener) => [listener.userUuid, listener]));
  const handlesOf = new Map(input.snapshot.groups.map((group) => [groupUuidOf(group), new Set(group.members.map((member) => member.handle))]));
  for (const listener of input.listeners) {
    for (const push of listener.pushes) {
      if (!membersOf.get(push.groupUuid)?.has(listener.userUuid))
        violations.push({ kind: 'push-to-stranger', detail: `@${listener.handle} got ${push.uuid} of group ${push.groupUuid}, not theirs` });
    }
    for (const receipt of listener.receipts) {
      if (!membersOf.get(receipt.groupUuid)?.has(listener.userUuid) || !handlesOf.get(receipt.groupUuid)?.has(receipt.handle))
        violations.push({ kind: 'receipt-misdirected', detail: `@${listener.handle} got @${receipt.handle}'s read receipt of group ${receipt.groupUuid}` });
    }
    for (const typing of listener.typing) {
      const members = handlesOf.get(typing.groupUuid);
      if (!membersOf.get(typing.groupUuid)?.has(listener.userUuid) || typing.handle === listener.handle || !members?.has(typing.handle))
        violations.push({ kind: 'typing-misdirected', detail: `@${listener.handle} was told @${typing.handle} types in group ${typing.groupUuid}` });
    }
  }
  for (const message of input.snapshot.messages) {
    const groupUuid = groupUuidOfMessageKey(message.pk);
    const members = groupUuid === undefined ? undefined : membersOf.get(groupUuid);
    // Messages before the listeners, and poison without a group, are not pushed to anyone.
    if (members === undefined || String(message.created_at ?? message.sk) < input.since) continue;
    for (const member of members) {
      const listener = byUser.get(member);
      if (listener === undefined) continue;
      const times = listener.pushes.filter((push) => push.uuid === message.message_uuid).length;
      if (times === 0) violations.push({ kind: 'push-missing', detail: `@${listener.handle} never got ${message.message_uuid} of group ${groupUuid}` });
      if (times > 1) violations.push({ kind: 'push-duplicated', detail: `@${listener.handle} got ${message.message_uuid} ${times} times` });
    }
  }
  return violations;
}
