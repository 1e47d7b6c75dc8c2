/**
 * The soak's checker must fail loudly: a snapshot that is consistent passes, and each kind
 * of damage the soak exists to catch (a lost message, a duplicate, a stale summary, two
 * groups for one pair, a refused message that was stored anyway, a 500) is reported.
 */
import {
  buildGroupItem,
  buildGroupSummaryItems,
  buildMessageItem,
  buildPairItem,
  readAttributes,
  type MessageGroupItem,
  type MessageItem,
  type Participant,
} from '../../functions/data/model';
import {
  checkPushes,
  checkSoak,
  classifyResponse,
  type CheckInput,
  type ListenerLog,
  type SentMessage,
  type TableSnapshot,
  unplaceableKeys,
} from '../../bench/soak/check';

const alice: Participant = { user_uuid: '00000000-0000-4000-8000-00000000000a', display_name: 'Alice', handle: 'alice' };
const bob: Participant = { user_uuid: '00000000-0000-4000-8000-00000000000b', display_name: 'Bob', handle: 'bob' };
const GROUP = '11111111-1111-4111-8111-111111111111';

function message(uuid: string, text: string, createdAt: string, sender = alice, groupUuid = GROUP): MessageItem {
  return buildMessageItem({ groupUuid, messageUuid: uuid, sender, text, createdAt });
}

/** A consistent table: one group of alice and bob with two messages, summaries at the newest, each with the other's one message unread. */
function consistentTable(): { snapshot: TableSnapshot; sent: SentMessage[] } {
  const first = message('aaaaaaaa-0000-4000-8000-000000000001', 'hello', '2026-11-24T07:00:00.000Z');
  const second = message('aaaaaaaa-0000-4000-8000-000000000002', 'again', '2026-11-24T07:00:01.000Z', bob);
  const members: [Participant, Participant] = [alice, bob];
  const snapshot: TableSnapshot = {
    messages: [first, second],
    groups: [
      {
        ...buildGroupItem({ groupUuid: GROUP, members, lastMessageSk: second.sk, lastMessage: second.message, createdAt: first.created_at }),
        [readAttributes(alice.user_uuid).unread]: 1,
        [readAttributes(bob.user_uuid).unread]: 1,
      } as MessageGroupItem,
    ],
    summaries: buildGroupSummaryItems({
      groupUuid: GROUP,
      members,
      lastMessageSk: second.sk,
      lastMessage: second.message,
      read: [{ unreadCount: 1 }, { unreadCount: 1 }],
    }),
    pairs: [buildPairItem(alice.user_uuid, bob.user_uuid, GROUP, first.created_at)],
  };
  const sent: SentMessage[] = [
    { text: 'hello', senderHandle: 'alice', pattern: 'D', status: 200, outcome: 'accepted', uuid: first.message_uuid, groupUuid: GROUP },
    { text: 'again', senderHandle: 'bob', pattern: 'C', status: 200, outcome: 'accepted', uuid: second.message_uuid, groupUuid: GROUP },
  ];
  return { snapshot, sent };
}

const input = (table: { snapshot: TableSnapshot; sent: SentMessage[] }, extra: Partial<CheckInput> = {}): CheckInput => ({
  unexpected: [],
  ...table,
  ...extra,
});
const kinds = (table: { snapshot: TableSnapshot; sent: SentMessage[] }, extra?: Partial<CheckInput>) =>
  checkSoak(input(table, extra)).map((violation) => violation.kind);
/** The kinds besides the unread counts, which a message added to a fixture without recounting also breaks. */
const kindsBesidesCounts = (table: { snapshot: TableSnapshot; sent: SentMessage[] }, extra?: Partial<CheckInput>) =>
  kinds(table, extra).filter((kind) => kind !== 'unread-drift');

describe('soak checker', () => {
  it('passes a consistent table', () => {
    // Prepare
    const table = consistentTable();

    // Act
    const violations = checkSoak(input(table));

    // Assess
    expect(violations).toEqual([]);
  });

  it('reports an accepted message that is not stored as lost', () => {
    // Prepare
    const table = consistentTable();
    table.sent.push({
      text: 'vanished',
      senderHandle: 'alice',
      pattern: 'C',
      status: 200,
      outcome: 'accepted',
      uuid: 'aaaaaaaa-0000-4000-8000-000000000099',
      groupUuid: GROUP,
    });

    // Act
    const violations = checkSoak(input(table));

    // Assess
    expect(violations).toEqual([expect.objectContaining({ kind: 'lost', detail: expect.stringContaining('aaaaaaaa-0000-4000-8000-000000000099') })]);
  });

  it('reports a message stored twice (same text, another uuid) as duplicated', () => {
    // Prepare
    const table = consistentTable();
    // The copy is older than the newest message, so the summaries stay right: only the duplicate is wrong.
    table.snapshot.messages.push(message('aaaaaaaa-0000-4000-8000-000000000003', 'hello', '2026-11-24T07:00:00.500Z'));

    // Act & Assess
    expect(kindsBesidesCounts(table)).toEqual(['duplicated']);
  });

  it('reports summaries that do not show the newest message as stale', () => {
    // Prepare
    const table = consistentTable();
    const newest = message('aaaaaaaa-0000-4000-8000-000000000004', 'newest', '2026-11-24T07:00:02.000Z');
    table.snapshot.messages.push(newest);
    table.sent.push({ text: 'newest', senderHandle: 'alice', pattern: 'C', status: 200, outcome: 'accepted', uuid: newest.message_uuid, groupUuid: GROUP });

    // Act
    const found = kinds(table);

    // Assess: the group item and both participants' summaries lag behind.
    expect(found).toEqual(['stale-summary', 'stale-summary', 'stale-summary']);
  });

  it('reports a missing summary and a third one', () => {
    // Prepare
    const missing = consistentTable();
    missing.snapshot.summaries.pop();
    const extra = consistentTable();
    extra.snapshot.summaries.push({ ...extra.snapshot.summaries[0]!, sk: '2026-11-24T06:00:00.000Z#old' });

    // Act & Assess
    expect(kinds(missing)).toEqual(['summary-count']);
    expect(kinds(extra)).toEqual(['summary-count']);
  });

  it("reports an unread count, on the group item or a summary, that the messages and the member's marker do not give", () => {
    // Prepare: bob read up to the first message (so 0 unread), but his summary still says 1; alice's group count says 2.
    const table = consistentTable();
    const [first] = table.snapshot.messages as [MessageItem];
    Object.assign(table.snapshot.groups[0]!, {
      [readAttributes(bob.user_uuid).marker]: first.sk,
      [readAttributes(bob.user_uuid).unread]: 0,
      [readAttributes(alice.user_uuid).unread]: 2,
    });

    // Act / Assess
    expect(kinds(table)).toEqual(['unread-drift', 'unread-drift']);
  });

  it('reports two groups for one pair', () => {
    // Prepare
    const table = consistentTable();
    const otherGroup = '22222222-2222-4222-8222-222222222222';
    const stray = message('aaaaaaaa-0000-4000-8000-000000000005', 'raced', '2026-11-24T07:00:00.100Z', bob, otherGroup);
    const members: [Participant, Participant] = [bob, alice];
    table.snapshot.messages.push(stray);
    table.snapshot.groups.push(
      buildGroupItem({ groupUuid: otherGroup, members, lastMessageSk: stray.sk, lastMessage: stray.message, createdAt: stray.created_at }),
    );
    table.snapshot.summaries.push(...buildGroupSummaryItems({ groupUuid: otherGroup, members, lastMessageSk: stray.sk, lastMessage: stray.message }));

    // Act
    const violations = checkSoak(input(table)).filter((violation) => violation.kind !== 'unread-drift');

    // Assess
    expect(violations).toEqual([expect.objectContaining({ kind: 'two-groups-for-pair', detail: expect.stringContaining(otherGroup) })]);
  });

  it('reports a refused message that was stored, and an unknown one stored twice', () => {
    // Prepare
    const table = consistentTable();
    table.sent[1] = { ...table.sent[1]!, status: 503, outcome: 'rejected', uuid: undefined, groupUuid: undefined };
    const unknown = consistentTable();
    unknown.sent[0] = { ...unknown.sent[0]!, status: 500, outcome: 'unknown' };
    unknown.snapshot.messages.push(message('aaaaaaaa-0000-4000-8000-000000000006', 'hello', '2026-11-24T07:00:00.200Z'));

    // Act & Assess
    expect(kindsBesidesCounts(table)).toEqual(['rejected-but-stored']);
    expect(kindsBesidesCounts(unknown)).toEqual(['duplicated']);
  });

  it('reports unexpected answers, poison that was not reported as never applicable, and anything dead-lettered', () => {
    // Prepare
    const table = consistentTable();
    const poisonKey = { pk: 'MSG#33333333-3333-4333-8333-333333333333', sk: '2026-11-24T07:00:00.000Z#x' };
    const realKey = table.snapshot.messages[0]!;
    const deadLetter = (key: { pk: string; sk: string }) => ({
      reason: 'retries-exhausted',
      record: { dynamodb: { Keys: { pk: { S: key.pk }, sk: { S: key.sk } } } },
    });

    // Act
    const found = kinds(table, {
      unexpected: [{ request: 'POST /api/messages as @alice', status: 500, detail: 'internal_error' }],
      poison: [{ kind: 'orphan', key: poisonKey }],
      deadLetters: [deadLetter(poisonKey), deadLetter(realKey)],
      unplaceable: new Set(),
    });
    const reported = kinds(table, {
      poison: [{ kind: 'orphan', key: poisonKey }],
      unplaceable: unplaceableKeys([JSON.stringify({ message: 'Stream records cannot be applied', keys: [poisonKey] })]),
    });

    // Assess
    expect(found).toEqual(['unexpected-status', 'poison-not-reported', 'poison-dead-lettered', 'message-dead-lettered']);
    expect(reported).toEqual([]);
  });
});

describe('soak response classification', () => {
  it.each([
    [200, false, false, 'accepted', false],
    [503, true, true, 'rejected', false],
    [503, true, false, 'rejected', true],
    [503, false, true, 'unknown', true],
    [429, false, true, 'rejected', false],
    [422, false, true, 'rejected', true],
    [500, false, true, 'unknown', true],
    [undefined, false, true, 'unknown', true],
  ] as const)('status %p (Retry-After %p, faults %p) is %p, violation %p', (status, retryAfter, faults, outcome, violation) => {
    // Act & Assess
    expect(classifyResponse(status, retryAfter, faults)).toEqual({ outcome, violation });
  });
});

describe('push checker', () => {
  const carol: Participant = { user_uuid: '00000000-0000-4000-8000-00000000000c', display_name: 'Carol', handle: 'carol' };
  const since = '2026-11-24T06:00:00.000Z';
  const [first, second] = consistentTable().snapshot.messages as [MessageItem, MessageItem];
  const pushes = (...items: MessageItem[]) => items.map((item) => ({ uuid: item.message_uuid, groupUuid: GROUP }));
  const listeners = (
    alicePushes: { uuid: string; groupUuid: string }[],
    bobPushes = pushes(first, second),
    carolPushes: { uuid: string; groupUuid: string }[] = [],
  ): ListenerLog[] => [
    { userUuid: alice.user_uuid, handle: 'alice', pushes: alicePushes, receipts: [], typing: [] },
    { userUuid: bob.user_uuid, handle: 'bob', pushes: bobPushes, receipts: [], typing: [] },
    { userUuid: carol.user_uuid, handle: 'carol', pushes: carolPushes, receipts: [], typing: [] },
  ];
  const pushKinds = (logs: ReturnType<typeof listeners>, at = since) =>
    checkPushes({ snapshot: consistentTable().snapshot, listeners: logs, since: at }).map((violation) => violation.kind);

  it('passes when each member got each message once, and the stranger nothing', () => {
    expect(pushKinds(listeners(pushes(first, second)))).toEqual([]);
  });

  it('reports a push missing, one sent twice, and one to a stranger', () => {
    expect(pushKinds(listeners(pushes(first)))).toEqual(['push-missing']);
    expect(pushKinds(listeners(pushes(first, second, second)))).toEqual(['push-duplicated']);
    expect(pushKinds(listeners(pushes(first, second), pushes(first, second), pushes(first)))).toEqual(['push-to-stranger']);
  });

  it('passes receipts to both members and typing to the other one; reports either reaching a stranger, and typing told to the typist', () => {
    const frame = (handle: string) => [{ handle, groupUuid: GROUP }];
    const withFrames = (changes: Record<string, { receipts?: ReturnType<typeof frame>; typing?: ReturnType<typeof frame> }>) =>
      listeners(pushes(first, second)).map((log) => ({ ...log, ...changes[log.handle] }));

    expect(pushKinds(withFrames({ alice: { receipts: frame('bob'), typing: frame('bob') }, bob: { receipts: frame('bob') } }))).toEqual([]);
    expect(pushKinds(withFrames({ carol: { receipts: frame('bob') } }))).toEqual(['receipt-misdirected']);
    expect(pushKinds(withFrames({ alice: { receipts: frame('carol') } }))).toEqual(['receipt-misdirected']);
    expect(pushKinds(withFrames({ carol: { typing: frame('alice') } }))).toEqual(['typing-misdirected']);
    expect(pushKinds(withFrames({ alice: { typing: frame('alice') } }))).toEqual(['typing-misdirected']);
  });

  it('expects nothing of messages older than the listeners', () => {
    expect(pushKinds(listeners([], []), '2026-11-24T08:00:00.000Z')).toEqual([]);
  });
});
