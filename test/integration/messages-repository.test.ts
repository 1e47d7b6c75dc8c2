/** The DynamoDB adapter against DynamoDB Local: every access pattern, paging, races and collisions. */
import { randomUUID } from 'node:crypto';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createMessagesRepository, type MessagesRepository } from '../../functions/data/messages-repository';
import { createTableAdmin } from '../../scripts/lib/table-admin';
import { keys, toMessageView, type Participant } from '../../functions/data/model';
import { createTestTable, type TestTable } from '../support/services';

const person = (handle: string): Participant => ({ user_uuid: randomUUID(), display_name: `Person ${handle}`, handle });

describe('messages repository', () => {
  let table: TestTable;
  let repository: MessagesRepository;

  beforeAll(async () => {
    table = await createTestTable();
    repository = createMessagesRepository(table.client, { tableName: table.tableName });
  });
  afterAll(() => table.drop());

  describe('idempotency records', () => {
    it('writes the record with the message, refuses the key while it lives, and takes it again once it expired', async () => {
      // Prepare: a clock that can jump a day ahead.
      let now = Date.UTC(2026, 11, 1, 12);
      const timed = createMessagesRepository(table.client, { tableName: table.tableName, clock: () => now });
      const [alice, bob] = [person('alice'), person('bob')];
      const claim = { userUuid: alice.user_uuid, key: randomUUID(), requestHash: 'h1' };

      // Act
      const first = await timed.createMessageInNewGroup(alice, bob, 'one', claim);
      const record = await timed.findIdempotencyRecord(alice.user_uuid, claim.key);
      const again = await timed.createMessage(first.messageGroupUuid, alice, 'one', claim).catch((error: Error) => error);
      now += 24 * 3600 * 1000 + 1000;
      const expired = await timed.findIdempotencyRecord(alice.user_uuid, claim.key);
      const afterExpiry = await timed.createMessage(first.messageGroupUuid, alice, 'two', { ...claim, requestHash: 'h2' });

      // Assess
      expect(record).toMatchObject({
        request_hash: 'h1',
        response: { message_group_uuid: first.messageGroupUuid, uuid: first.answer.uuid, message: 'one' },
        expires_at: Date.UTC(2026, 11, 2, 12) / 1000,
      });
      expect((again as Error).name).toBe('IdempotencyKeyTakenError');
      expect(expired).toBeUndefined();
      expect((await timed.findIdempotencyRecord(alice.user_uuid, claim.key))?.response).toMatchObject({ uuid: afterExpiry.answer.uuid, message: 'two' });
    });
  });

  describe('createMessageInNewGroup (D)', () => {
    it('creates the group, the pair, both summaries and the message', async () => {
      // Prepare
      const [alice, bob] = [person('alice'), person('bob')];

      // Act
      const created = await repository.createMessageInNewGroup(alice, bob, 'hello bob');

      // Assess
      expect(created.groupCreated).toBe(true);
      expect(await repository.findGroupUuidForPair(bob.user_uuid, alice.user_uuid)).toBe(created.messageGroupUuid);
      const group = await repository.getGroup(created.messageGroupUuid);
      expect(group?.member_uuids.sort()).toEqual([alice.user_uuid, bob.user_uuid].sort());
      const aliceGroups = await repository.listMessageGroups(alice.user_uuid, { limit: 20 });
      const bobGroups = await repository.listMessageGroups(bob.user_uuid, { limit: 20 });
      expect(aliceGroups.items).toEqual([
        {
          uuid: created.messageGroupUuid,
          display_name: 'Person bob',
          handle: 'bob',
          message: 'hello bob',
          created_at: created.answer.created_at,
          unread_count: 0,
          last_read_at: null,
        },
      ]);
      // The recipient has the one message unread.
      expect(bobGroups.items[0]).toMatchObject({ uuid: created.messageGroupUuid, handle: 'alice', message: 'hello bob', unread_count: 1 });
      expect((await repository.listMessages(created.messageGroupUuid, { limit: 20 })).items).toEqual([toMessageView(created.item)]);
    });

    it('appends to the existing group of a pair, from either side (defect 6)', async () => {
      // Prepare
      const [alice, bob] = [person('alice'), person('bob')];
      const first = await repository.createMessageInNewGroup(alice, bob, 'one');

      // Act
      const second = await repository.createMessageInNewGroup(bob, alice, 'two');

      // Assess
      expect(second.groupCreated).toBe(false);
      expect(second.messageGroupUuid).toBe(first.messageGroupUuid);
      expect((await repository.listMessages(first.messageGroupUuid, { limit: 20 })).items.map((m) => m.message)).toEqual(['one', 'two']);
    });

    it('gives concurrent creates for one new pair a single group holding every message', async () => {
      // Prepare
      const [alice, bob] = [person('alice'), person('bob')];

      // Act
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          index % 2 === 0 ? repository.createMessageInNewGroup(alice, bob, `a${index}`) : repository.createMessageInNewGroup(bob, alice, `b${index}`),
        ),
      );

      // Assess
      const groups = new Set(results.map((result) => result.messageGroupUuid));
      expect(groups.size).toBe(1);
      expect(results.filter((result) => result.groupCreated)).toHaveLength(1);
      const stored = await repository.listMessages([...groups][0]!, { limit: 100 });
      expect(stored.items).toHaveLength(12);
      expect((await repository.listMessageGroups(alice.user_uuid, { limit: 20 })).items).toHaveLength(1);
    });
  });

  describe('createMessage (C)', () => {
    it('does not collide when messages share a millisecond (defect 3)', async () => {
      // Prepare
      const [alice, bob] = [person('alice'), person('bob')];
      const frozen = createMessagesRepository(table.client, { tableName: table.tableName, clock: () => Date.UTC(2024, 1, 29, 12) });
      const { messageGroupUuid } = await frozen.createMessageInNewGroup(alice, bob, 'first');

      // Act
      await Promise.all(Array.from({ length: 10 }, (_, index) => frozen.createMessage(messageGroupUuid, index % 2 ? alice : bob, `same ms ${index}`)));

      // Assess
      const page = await repository.listMessages(messageGroupUuid, { limit: 50 });
      expect(page.items).toHaveLength(11);
      expect(new Set(page.items.map((m) => m.created_at))).toEqual(new Set(['2024-02-29T12:00:00.000Z']));
    });

    it('gives two groups of one owner in the same millisecond two summaries', async () => {
      // Prepare
      const [alice, bob, carol] = [person('alice'), person('bob'), person('carol')];
      const frozen = createMessagesRepository(table.client, { tableName: table.tableName, clock: () => Date.UTC(2024, 1, 29, 13) });

      // Act
      await Promise.all([frozen.createMessageInNewGroup(alice, bob, 'to bob'), frozen.createMessageInNewGroup(alice, carol, 'to carol')]);

      // Assess
      expect((await repository.listMessageGroups(alice.user_uuid, { limit: 20 })).items.map((g) => g.handle).sort()).toEqual(['bob', 'carol']);
    });
  });

  describe('listMessages (A) and listMessageGroups (B) paging', () => {
    it('walks a conversation back in time, each page oldest first, with no overlap or gap', async () => {
      // Prepare
      const [alice, bob] = [person('alice'), person('bob')];
      let tick = Date.UTC(2023, 5, 1);
      const ticking = createMessagesRepository(table.client, { tableName: table.tableName, clock: () => (tick += 1000) });
      const { messageGroupUuid } = await ticking.createMessageInNewGroup(alice, bob, 'm0');
      for (let index = 1; index < 23; index += 1) await ticking.createMessage(messageGroupUuid, index % 2 ? bob : alice, `m${index}`);

      // Act
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await repository.listMessages(messageGroupUuid, { limit: 5, cursor });
        pages.push(page.items.map((m) => m.message));
        cursor = page.nextCursor;
      } while (cursor);

      // Assess
      expect(pages).toHaveLength(5);
      expect(pages[0]).toEqual(['m18', 'm19', 'm20', 'm21', 'm22']);
      expect(pages[4]).toEqual(['m0', 'm1', 'm2']);
      expect(pages.reverse().flat()).toEqual(Array.from({ length: 23 }, (_, index) => `m${index}`));
    });

    it('has no cursor on a last page that is exactly full', async () => {
      // Prepare
      const [alice, bob] = [person('alice'), person('bob')];
      const { messageGroupUuid } = await repository.createMessageInNewGroup(alice, bob, 'one');
      await repository.createMessage(messageGroupUuid, bob, 'two');

      // Act
      const page = await repository.listMessages(messageGroupUuid, { limit: 2 });

      // Assess
      expect(page.items).toHaveLength(2);
      expect(page.nextCursor).toBeUndefined();
    });

    it("pages a user's conversations newest first", async () => {
      // Prepare
      const owner = person('owner');
      let tick = Date.UTC(2023, 6, 1);
      const ticking = createMessagesRepository(table.client, { tableName: table.tableName, clock: () => (tick += 1000) });
      for (let index = 0; index < 7; index += 1) await ticking.createMessageInNewGroup(owner, person(`p${index}`), `to p${index}`);

      // Act
      const first = await repository.listMessageGroups(owner.user_uuid, { limit: 3 });
      const second = await repository.listMessageGroups(owner.user_uuid, { limit: 3, cursor: first.nextCursor });
      const third = await repository.listMessageGroups(owner.user_uuid, { limit: 3, cursor: second.nextCursor });

      // Assess
      expect([...first.items, ...second.items, ...third.items].map((g) => g.handle)).toEqual(['p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0']);
      expect(third.nextCursor).toBeUndefined();
    });
  });

  describe('moveGroupSummary (E)', () => {
    it('moves both summaries to a newer message atomically, and ignores older or repeated ones', async () => {
      // Prepare
      const [alice, bob] = [person('alice'), person('bob')];
      const { messageGroupUuid } = await repository.createMessageInNewGroup(alice, bob, 'first');
      const later = await repository.createMessage(messageGroupUuid, bob, 'second');

      // Act
      const moved = await repository.moveGroupSummary(messageGroupUuid, { sk: later.item.sk, message: later.item.message });
      const replayed = await repository.moveGroupSummary(messageGroupUuid, { sk: later.item.sk, message: later.item.message });
      const older = await repository.moveGroupSummary(messageGroupUuid, { sk: '2000-01-01T00:00:00.000Z#x', message: 'ancient' });

      // Assess
      expect([moved, replayed, older]).toEqual(['moved', 'unchanged', 'unchanged']);
      for (const owner of [alice, bob]) {
        const summaries = await table.client.send(
          new QueryCommand({
            TableName: table.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': keys.groupSummaryPartition(owner.user_uuid) },
          }),
        );
        expect(summaries.Items).toHaveLength(1);
        expect(summaries.Items![0]).toMatchObject({ message: 'second', last_message_at: later.answer.created_at });
      }
      const group = await table.client.send(new GetCommand({ TableName: table.tableName, Key: keys.group(messageGroupUuid) }));
      expect(group.Item?.last_message_sk).toBe(later.item.sk);
      expect(await createTableAdmin(table.client, table.tableName).listSummariesOfGroup(messageGroupUuid)).toHaveLength(2);
    });
  });

  describe('the table admin: importConversation and putItems', () => {
    it('imports a conversation once; a second import of the pair is refused', async () => {
      // Prepare
      const [alice, bob] = [person('alice'), person('bob')];
      const messages = Array.from({ length: 60 }, (_, index) => ({
        sender: index % 2 ? bob : alice,
        text: `line ${index}`,
        createdAt: new Date(Date.UTC(2023, 0, 1) + index * 60_000).toISOString(),
      }));

      // Act
      const groupUuid = await createTableAdmin(table.client, table.tableName).importConversation([alice, bob], messages);
      const again = await createTableAdmin(table.client, table.tableName).importConversation([bob, alice], messages);

      // Assess
      expect(groupUuid).toBeDefined();
      expect(again).toBeUndefined();
      const page = await repository.listMessages(groupUuid!, { limit: 100 });
      expect(page.items.map((m) => m.message)).toEqual(messages.map((m) => m.text));
      expect((await repository.listMessageGroups(bob.user_uuid, { limit: 5 })).items[0]).toMatchObject({ message: 'line 59', handle: 'alice' });
    });

    it('writes more than one batch of 25 items', async () => {
      // Prepare
      const pk = `TEST#${randomUUID()}`;
      const items = Array.from({ length: 60 }, (_, index) => ({ pk, sk: String(index).padStart(3, '0') }));

      // Act
      await createTableAdmin(table.client, table.tableName).putItems(items);

      // Assess
      const stored = await table.client.send(
        new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } }),
      );
      expect(stored.Count).toBe(60);
    });
  });
});
