/** The migration's plan (scripts/lib/migration.ts) as a pure function of a table's items. */
import { buildGroupItem, buildGroupSummaryItems, buildMessageItem, buildPairItem, type Participant } from '../../functions/data/model';
import { normalizeTimestamp, offsetMinutes, planMigration, type Item, type KnownUser } from '../../scripts/lib/migration';

const ann: Participant = { user_uuid: '11111111-1111-4111-8111-111111111111', display_name: 'Ann', handle: 'ann' };
const ben: Participant = { user_uuid: '22222222-2222-4222-8222-222222222222', display_name: 'Ben', handle: 'ben' };
const cat: Participant = { user_uuid: '33333333-3333-4333-8333-333333333333', display_name: 'Cat', handle: 'cat' };
const users = new Map<string, KnownUser>(
  [ann, ben].map((person) => [person.user_uuid, { uuid: person.user_uuid, handle: person.handle, display_name: `${person.display_name} (PostgreSQL)` }]),
);
const OPTIONS = { naiveOffset: '+00:00', now: Date.UTC(2026, 11, 2), newUuid: () => '99999999-9999-4999-8999-999999999999' };

/** A message as the original wrote it. */
const originalMessage = (group: string, sk: string, sender: Participant, text: string): Item => ({
  pk: `MSG#${group}`,
  sk,
  message_uuid: `${sk.slice(0, 8)}-0000-4000-8000-000000000000`,
  message: text,
  user_uuid: sender.user_uuid,
  user_display_name: sender.display_name,
  user_handle: sender.handle,
});

/** A summary as the original wrote it: `owner` sees `other`. */
const originalSummary = (group: string, sk: string, owner: Participant, other: Participant, text: string): Item => ({
  pk: `GRP#${owner.user_uuid}`,
  sk,
  message_group_uuid: group,
  message: text,
  user_uuid: other.user_uuid,
  user_display_name: other.display_name,
  user_handle: other.handle,
});

describe('normalizeTimestamp', () => {
  it.each([
    ['2026-12-02T03:07:20.371423+00:00', '2026-12-02T03:07:20.371Z'],
    ['2026-12-02T03:07:20+00:00', '2026-12-02T03:07:20.000Z'],
    ['2026-12-02T05:07:20.5+02:00', '2026-12-02T03:07:20.500Z'],
    ['2026-12-02 03:07:20.371423', '2026-12-02T03:07:20.371Z'],
    ['2026-12-02T03:07:20.371Z', '2026-12-02T03:07:20.371Z'],
  ])('reads %p as %p (naive taken as UTC)', (value, expected) => {
    expect(normalizeTimestamp(value, '+00:00')).toBe(expected);
  });

  it('applies the naive offset only to naive timestamps', () => {
    expect(normalizeTimestamp('2026-12-02T03:07:20', '-05:00')).toBe('2026-12-02T08:07:20.000Z');
    expect(normalizeTimestamp('2026-12-02T03:07:20+00:00', '-05:00')).toBe('2026-12-02T03:07:20.000Z');
  });

  it.each(['2026-02-30T00:00:00', 'yesterday', '', 42, undefined, '2026-12-02T03:07:20.123Z#uuid'])('refuses %p', (value) => {
    expect(normalizeTimestamp(value, '+00:00')).toBeUndefined();
  });

  it('reads offsets and refuses what is none', () => {
    expect([offsetMinutes('+05:30'), offsetMinutes('-0800'), offsetMinutes('Z')]).toEqual([330, -480, 0]);
    expect(() => offsetMinutes('UTC')).toThrow(RangeError);
  });
});

describe('planMigration', () => {
  it('gives a group of the original a group item, two summaries at its newest message and re-keyed messages', () => {
    // Prepare: the seed's summaries sit at its start with a filler text, before its messages.
    const items = [
      originalSummary('g1', '2026-11-01T10:00:00.000100+00:00', ann, ben, 'this is a filler message'),
      originalSummary('g1', '2026-11-01T10:00:00.000100+00:00', ben, ann, 'this is a filler message'),
      originalMessage('g1', '2026-11-01T10:01:00.000200+00:00', ann, 'first'),
      originalMessage('g1', '2026-11-01T10:02:00.000300+00:00', ben, 'second'),
    ];

    // Act
    const plan = planMigration(items, users, OPTIONS);

    // Assess
    expect(plan.unplaced).toEqual([]);
    expect(plan.messages.map((move) => [move.from.sk, move.item.sk, move.item.created_at])).toEqual([
      ['2026-11-01T10:01:00.000200+00:00', `2026-11-01T10:01:00.000Z#${items[2]!.message_uuid}`, '2026-11-01T10:01:00.000Z'],
      ['2026-11-01T10:02:00.000300+00:00', `2026-11-01T10:02:00.000Z#${items[3]!.message_uuid}`, '2026-11-01T10:02:00.000Z'],
    ]);
    const [group] = plan.groups;
    expect(group!.groupItem).toMatchObject({ last_message: 'second', last_message_sk: plan.messages[1]!.item.sk, created_at: '2026-11-01T10:01:00.000Z' });
    // Names from PostgreSQL, the authority on users.
    expect(group!.groupItem.members.map((member) => member.display_name)).toEqual(['Ann (PostgreSQL)', 'Ben (PostgreSQL)']);
    expect(group!.putSummaries.map((summary) => [summary.pk, summary.message, summary.last_message_at])).toEqual([
      [`GRP#${ann.user_uuid}`, 'second', '2026-11-01T10:02:00.000Z'],
      [`GRP#${ben.user_uuid}`, 'second', '2026-11-01T10:02:00.000Z'],
    ]);
    expect(group!.deleteSummaries).toEqual(items.slice(0, 2).map((item) => ({ pk: item.pk, sk: item.sk })));
    expect(plan.pairs).toEqual([expect.objectContaining({ groupUuids: ['g1'], write: true, item: expect.objectContaining({ group_uuid: 'g1' }) })]);
  });

  it('finds the members of a group left without summaries in its messages, and names a user PostgreSQL lacks from the items', () => {
    // Act
    const plan = planMigration(
      [originalMessage('g2', '2026-11-02T10:00:00', ann, 'hi'), originalMessage('g2', '2026-11-02T10:01:00', cat, 'hello')],
      users,
      OPTIONS,
    );

    // Assess
    expect(plan.groups[0]!.groupItem.member_uuids).toEqual([ann.user_uuid, cat.user_uuid]);
    expect(plan.groups[0]!.groupItem.members[1]).toEqual(cat);
    expect(plan.unknownUsers).toEqual([{ uuid: cat.user_uuid, handle: 'cat' }]);
  });

  it('cannot place an orphan message (one sender, no summary) or a group whose summaries name three people, and says what to do', () => {
    // Act
    const plan = planMigration(
      [
        originalMessage('lone', '2026-11-03T10:00:00+00:00', ann, 'anyone?'),
        originalSummary('odd', '2026-11-03T10:00:00+00:00', ann, ben, 'x'),
        originalSummary('odd', '2026-11-03T10:00:00+00:00', cat, ben, 'x'),
        { pk: 'MSG#g9', sk: 'not a time', message: 'x' },
      ],
      users,
      OPTIONS,
    );

    // Assess: what cannot be placed is left exactly as it is, messages included.
    expect(plan.groups).toEqual([]);
    expect(plan.messages).toEqual([]);
    expect(plan.unplaced.map((item) => [item.key.pk, item.reason])).toEqual([
      ['MSG#g9', 'its sort key "not a time" is not a timestamp'],
      ['MSG#lone', 'an orphan message: no summary names its group, and its messages have 1 sender(s), not 2'],
      [`GRP#${ann.user_uuid}`, 'its summaries name 3 people, not 2'],
      [`GRP#${cat.user_uuid}`, 'its summaries name 3 people, not 2'],
    ]);
    expect(plan.unplaced.every((item) => item.advice.length > 0)).toBe(true);
  });

  it('points a pair with several groups at the one with the newest message, keeping them all', () => {
    // Act
    const plan = planMigration(
      [
        originalSummary('old', '2026-11-01T10:00:00+00:00', ann, ben, 'old'),
        originalMessage('old', '2026-11-01T10:00:00+00:00', ann, 'old'),
        originalSummary('new', '2026-11-05T10:00:00+00:00', ben, ann, 'new'),
        originalMessage('new', '2026-11-05T10:00:00+00:00', ben, 'new'),
      ],
      users,
      OPTIONS,
    );

    // Assess
    expect(plan.groups.map((group) => group.groupUuid).sort()).toEqual(['new', 'old']);
    expect(plan.pairs).toHaveLength(1);
    expect(plan.pairs[0]).toMatchObject({ groupUuids: ['new', 'old'], item: { group_uuid: 'new' }, memberHandles: ['ann', 'ben'] });
  });

  it("has nothing to do on a table in this project's format", () => {
    // Prepare
    const message = buildMessageItem({
      groupUuid: 'g',
      messageUuid: '44444444-4444-4444-8444-444444444444',
      sender: ann,
      text: 'hi',
      createdAt: '2026-11-01T10:00:00.000Z',
    });
    const state = { groupUuid: 'g', members: [ann, ben] as [Participant, Participant], lastMessageSk: message.sk, lastMessage: 'hi' };
    const items = [
      message,
      buildGroupItem({ ...state, createdAt: message.created_at }),
      ...buildGroupSummaryItems(state),
      buildPairItem(ann.user_uuid, ben.user_uuid, 'g', message.created_at),
    ] as unknown as Item[];

    // Act
    const plan = planMigration(items, users, OPTIONS);

    // Assess
    expect(plan).toMatchObject({ groups: [], messages: [], unplaced: [], groupsAlreadyMigrated: 1 });
    expect(plan.pairs.filter((pair) => pair.write)).toEqual([]);
    expect(plan.newestOriginalWrite).toBeUndefined();
  });

  it('still names a user PostgreSQL lacks when an earlier, interrupted run already placed their group', () => {
    // Prepare
    const message = buildMessageItem({
      groupUuid: 'g',
      messageUuid: '55555555-5555-4555-8555-555555555555',
      sender: cat,
      text: 'hi',
      createdAt: '2026-11-01T10:00:00.000Z',
    });
    const state = { groupUuid: 'g', members: [ann, cat] as [Participant, Participant], lastMessageSk: message.sk, lastMessage: 'hi' };
    const items = [message, buildGroupItem({ ...state, createdAt: message.created_at }), ...buildGroupSummaryItems(state)] as unknown as Item[];

    // Act
    const plan = planMigration(items, users, OPTIONS);

    // Assess
    expect(plan.groupsAlreadyMigrated).toBe(1);
    expect(plan.unknownUsers).toEqual([{ uuid: cat.user_uuid, handle: 'cat' }]);
  });
});
