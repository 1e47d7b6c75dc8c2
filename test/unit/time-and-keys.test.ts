import { isIsoTimestamp, nowIso, timeOrderedKey, timestampOfKey } from '../../functions/data/model';
import {
  buildGroupSummaryItems,
  buildMessageItem,
  groupUuidOfMessageKey,
  isMessageItem,
  keys,
  toMessageGroupView,
  toMessageView,
} from '../../functions/data/model';

const alice = { user_uuid: '11111111-1111-4111-8111-111111111111', display_name: 'Alice', handle: 'alice' };
const bob = { user_uuid: '22222222-2222-4222-8222-222222222222', display_name: 'Bob', handle: 'bob' };

describe('timestamps', () => {
  it('formats as ISO-8601 UTC with milliseconds and Z', () => {
    // Act
    const stamp = nowIso(() => Date.UTC(2023, 0, 5, 7, 8, 9, 4));

    // Assess
    expect(stamp).toBe('2023-01-05T07:08:09.004Z');
    expect(isIsoTimestamp(stamp)).toBe(true);
  });

  it.each(['2023-01-05T07:08:09Z', '2023-01-05T07:08:09.004+00:00', '2023-01-05 07:08:09.004', '2023-13-05T07:08:09.004Z', 42])(
    'rejects %p, the mixed forms of the original (defect 4)',
    (value) => {
      expect(isIsoTimestamp(value)).toBe(false);
    },
  );

  it('orders lexically as it orders in time, across years', () => {
    // Prepare
    const times = [Date.UTC(2022, 11, 31, 23, 59, 59, 999), Date.UTC(2023, 0, 1), Date.UTC(2023, 0, 1, 0, 0, 0, 1)];

    // Act
    const stamps = times.map((time) => nowIso(() => time));

    // Assess
    expect([...stamps].sort()).toEqual(stamps);
  });
});

describe('time-ordered keys', () => {
  it('never collide for writes in the same millisecond (defect 3) and still start with the timestamp', () => {
    // Prepare
    const at = '2023-01-05T07:08:09.004Z';

    // Act
    const first = keys.message('g', at, 'a-uuid');
    const second = keys.message('g', at, 'b-uuid');

    // Assess
    expect(first.sk).not.toBe(second.sk);
    expect(first.sk.startsWith(at)).toBe(true);
    expect(timestampOfKey(second.sk)).toBe(at);
  });

  it('sort by time before uuid, so BETWEEN date ranges select by time', () => {
    // Prepare
    const earlier = timeOrderedKey('2023-01-05T07:08:09.004Z', 'ffff');
    const later = timeOrderedKey('2023-01-05T07:08:09.005Z', '0000');

    // Assess
    expect(earlier < later).toBe(true);
    expect(earlier >= '2023-01-05' && earlier <= '2023-01-06').toBe(true);
  });
});

describe('single-table keys', () => {
  it('formats every item type', () => {
    expect(keys.messagePartition('g1')).toBe('MSG#g1');
    expect(keys.groupSummaryPartition('u1')).toBe('GRP#u1');
    expect(keys.group('g1')).toEqual({ pk: 'GROUP#g1', sk: 'META' });
    expect(keys.groupSummary('u1', '2023-01-05T07:08:09.004Z', 'g1')).toEqual({ pk: 'GRP#u1', sk: '2023-01-05T07:08:09.004Z#g1' });
  });

  it('gives a pair one key whichever side asks', () => {
    expect(keys.pair(alice.user_uuid, bob.user_uuid)).toEqual(keys.pair(bob.user_uuid, alice.user_uuid));
  });

  it('recognises message items by key and fields only', () => {
    // Prepare
    const message = buildMessageItem({ groupUuid: 'g1', messageUuid: 'm1', sender: alice, text: 'hi', createdAt: '2023-01-05T07:08:09.004Z' });
    const [summary] = buildGroupSummaryItems({ groupUuid: 'g1', members: [alice, bob], lastMessageSk: message.sk, lastMessage: 'hi' });

    // Assess
    expect(isMessageItem(message as unknown as Record<string, unknown>)).toBe(true);
    expect(isMessageItem(summary as unknown as Record<string, unknown>)).toBe(false);
    expect(groupUuidOfMessageKey(message.pk)).toBe('g1');
    expect(groupUuidOfMessageKey(summary.pk)).toBeUndefined();
  });
});

describe('items to API shapes', () => {
  it('shows each participant the other one, at the last message time', () => {
    // Prepare
    const lastMessageSk = timeOrderedKey('2023-01-05T07:08:09.004Z', 'm9');

    // Act
    const [aliceView, bobView] = buildGroupSummaryItems({
      groupUuid: 'g1',
      members: [alice, bob],
      lastMessageSk,
      lastMessage: 'bye',
      read: [{ unreadCount: 0, lastReadAt: '2023-01-05T07:09:00.000Z' }, { unreadCount: 3 }],
    }).map(toMessageGroupView);

    // Assess: the original's fields, then the read state (never read: null)
    expect(aliceView).toEqual({
      uuid: 'g1',
      display_name: 'Bob',
      handle: 'bob',
      message: 'bye',
      created_at: '2023-01-05T07:08:09.004Z',
      unread_count: 0,
      last_read_at: '2023-01-05T07:09:00.000Z',
    });
    expect(bobView).toEqual({
      uuid: 'g1',
      display_name: 'Alice',
      handle: 'alice',
      message: 'bye',
      created_at: '2023-01-05T07:08:09.004Z',
      unread_count: 3,
      last_read_at: null,
    });
  });

  it('maps a message to the contract fields only', () => {
    // Act
    const view = toMessageView(buildMessageItem({ groupUuid: 'g1', messageUuid: 'm1', sender: alice, text: 'hi', createdAt: '2023-01-05T07:08:09.004Z' }));

    // Assess
    expect(view).toEqual({ uuid: 'm1', display_name: 'Alice', handle: 'alice', message: 'hi', created_at: '2023-01-05T07:08:09.004Z' });
  });
});
