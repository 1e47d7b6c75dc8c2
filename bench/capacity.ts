/**
 * Consumed capacity per operation of patterns A to E: ours (the messaging domain the HTTP
 * handlers call, over the real repository, and our stream handler) against the original's
 * requests (bench/lib/original.ts), on DynamoDB Local with `ReturnConsumedCapacity`
 * (scripts/lib/capacity.ts).
 *
 * DynamoDB Local reports one total per request, GSI writes included, and charges as
 * DynamoDB does: 0.5 RCU per 4 KB eventually consistent, 1 RCU consistent, 1 WCU per 1 KB,
 * twice that inside a transaction. A calibration table shows that before the figures. Read
 * and write units are told apart by the operation that consumed them.
 *
 * Users come from an in-memory directory: they live in PostgreSQL and cost no DynamoDB
 * capacity, and the figures are about DynamoDB.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { MESSAGE_STREAM_SOURCE } from '../functions/catalog';
import { createRateLimitRepository } from '../functions/data/rate-limit-repository';
import { createMessagesRepository } from '../functions/data/messages-repository';
import { createMessaging } from '../functions/domain/conversations';
import { buildMessageItem, type Participant } from '../functions/data/model';
import type { UserDirectory } from '../functions/domain/user-directory';
import type { User } from '../functions/data/users-repository';
import { filterEvents } from '../local/streams/filter';
import type { Benchmark, BenchContext, Table } from './lib/harness';
import { round } from './lib/stats';
import {
  asItems,
  conversationItems,
  createBenchTable,
  createOurStreamHandler,
  meterRequests,
  participant,
  streamLambdaContext,
  type Usage,
} from './lib/messages-table';
import { createOriginalMessages } from './lib/original';

/** Each operation runs this many times per side; capacity is deterministic, so the spread shows it is. */
const REPETITIONS = 3;

/** A's conversation: more messages than a page. */
const CONVERSATION_MESSAGES = 40;
/** B's user: more conversations than a page. */
const HUB_GROUPS = 25;
/**
 * The coalescing case of E: 10 messages a group, as in the stream benchmark's 100 records
 * over 10 groups; per message the figures are the same at this smaller size, and the
 * original's 5 requests a message would make 100 records slow on a busy machine.
 */
const COALESCED_BATCH = { records: 20, groups: 2 };

/** Items written alone, then the same kind of items in one transaction. */
interface Calibration {
  items: string;
  alone: number;
  /** What DynamoDB Local reported for the transaction. */
  reported: number;
  /** What the benchmark charges for it (`transactionWriteUnits`). */
  priced: number;
}

interface Row {
  operation: string;
  ours: Usage[];
  original: Usage[];
  /** E over a batch: figures are per message. */
  perRecords?: number;
  note: string;
}

/** A user with a Cognito `sub`, as the users table holds them. */
function user(person: Participant): User {
  return {
    uuid: person.user_uuid,
    display_name: person.display_name,
    handle: person.handle,
    cognito_user_id: randomUUID(),
  };
}

function memoryDirectory(users: User[]): UserDirectory & { add(user: User): void } {
  const bySub = new Map<string, User>();
  const byHandle = new Map<string, User>();
  const add = (entry: User) => {
    bySub.set(entry.cognito_user_id!, entry);
    byHandle.set(entry.handle, entry);
  };
  users.forEach(add);
  return { add, findByCognitoUserId: async (sub) => bySub.get(sub), findByHandle: async (handle) => byHandle.get(handle) };
}

const mean = (values: number[]) => values.reduce((total, value) => total + value, 0) / values.length;
const spread = (values: number[]) => Math.max(...values) - Math.min(...values);

export const benchmark: Benchmark = {
  name: 'capacity',
  summary: 'Consumed RCU and WCU per operation of patterns A-E, ours against the original requests, on DynamoDB Local',
  async run(context: BenchContext) {
    const services = await context.services();
    const table = await createBenchTable(services.dynamodb.url, 'cruddur-bench-capacity');
    const { reader, admin: setup } = table;
    const oursClient = table.newClient();
    const originalClient = table.newClient();
    const calibrationClient = table.newClient();
    const meters = { ours: meterRequests(oursClient), original: meterRequests(originalClient), calibration: meterRequests(calibrationClient) };

    const hub = participant('hub');
    const peers = Array.from({ length: HUB_GROUPS }, (_, index) => participant(`peer${index}`));
    const directory = memoryDirectory([hub, ...peers].map(user));
    const hubSub = (await directory.findByHandle(hub.handle))!.cognito_user_id!;
    const ourStreamHandler = createOurStreamHandler(oursClient, table.tableName);
    const original = createOriginalMessages(originalClient, table.tableName);
    const text = 'Are we still on for Saturday? I can bring the maps.';

    /** A person who can be messaged by handle. */
    const newPeer = (name: string) => {
      const person = participant(name);
      directory.add(user(person));
      return person;
    };

    /** Runs `ours` and `original` once each, metered. */
    async function measure(row: Row, ours: () => Promise<unknown>, originalRun: () => Promise<unknown>): Promise<void> {
      meters.ours.take();
      await ours();
      row.ours.push(meters.ours.take());
      meters.original.take();
      await originalRun();
      row.original.push(meters.original.take());
    }

    /** Each side's stream records of `messages` new messages spread over `groups` new groups. */
    async function streamBatches(records: number, groups: number): Promise<{ ours: DynamoDBRecord[]; original: DynamoDBRecord[] }> {
      const start = Date.now();
      const created = ['ours', 'original'].map((side) =>
        Array.from({ length: groups }, (_, index) => conversationItems([participant(`${side}_a`), participant(`${side}_b${index}`)], ['hello'], start - 1000)),
      );
      await setup.putItems(created.flatMap((side) => side.flatMap((group) => group.items)));
      await reader.readNew();
      const messages = created.flatMap((side) =>
        Array.from({ length: records }, (_, index) =>
          buildMessageItem({
            groupUuid: side[index % groups]!.groupUuid,
            messageUuid: randomUUID(),
            sender: hub,
            text,
            createdAt: new Date(start + index).toISOString(),
          }),
        ),
      );
      await setup.putItems(asItems(messages));
      const delivered = filterEvents(MESSAGE_STREAM_SOURCE.filterPatterns, await reader.readNew());
      const ofSide = (index: number) => {
        const uuids = new Set<string>(created[index]!.map((group) => group.groupUuid));
        return delivered.filter((record) => uuids.has(record.dynamodb!.Keys!.pk!.S!.replace(/^MSG#/, '')));
      };
      const batches = { ours: ofSide(0), original: ofSide(1) };
      if (batches.ours.length !== records || batches.original.length !== records) throw new Error('The stream did not deliver every message of the batch');
      return batches;
    }

    try {
      context.progress('capacity: setting up a conversation of 40 messages and a user with 25 conversations');
      const start = Date.now() - 60_000;
      const conversation = conversationItems(
        [hub, peers[0]!],
        Array.from({ length: CONVERSATION_MESSAGES }, (_, index) => `${text} (${index})`),
        start,
      );
      const others = peers.slice(1).map((peer, index) => conversationItems([hub, peer], [`hello ${index}`], start + 1000 + index));
      await setup.putItems([...conversation.items, ...others.flatMap((group) => group.items)]);
      const groupUuid = conversation.groupUuid;

      // Calibration: items written alone, then the same kind of items in one transaction.
      context.progress('capacity: calibrating (items alone and in a transaction)');
      const calibration: Calibration[] = [];
      const calibrate = async (label: string, items: () => Record<string, unknown>[]) => {
        meters.calibration.take();
        for (const Item of items()) await calibrationClient.send(new PutCommand({ TableName: table.tableName, Item }));
        const alone = meters.calibration.take().writeUnits;
        await calibrationClient.send(new TransactWriteCommand({ TransactItems: items().map((Item) => ({ Put: { TableName: table.tableName, Item } })) }));
        const { reportedWriteUnits, writeUnits } = meters.calibration.take();
        calibration.push({ items: label, alone, reported: reportedWriteUnits, priced: writeUnits });
      };
      // Pattern D's five items: pair, group, two summaries (in the GSI), message.
      const patternDItems = () => conversationItems([hub, participant('calibration')], [text], Date.now()).items;
      await calibrate('a message (table only)', () => patternDItems().slice(4));
      await calibrate('a group summary (table + GSI)', () => patternDItems().slice(2, 3));
      await calibrate("pattern D's 5 items (2 in the GSI)", patternDItems);

      const membershipNote = 'ours adds the consistent membership GetItem (1 RCU, defect 5)';
      const rows: Row[] = [
        {
          operation: 'A list messages, cold container',
          ours: [],
          original: [],
          note: `${membershipNote} and reads 21 items to know whether a next page exists`,
        },
        { operation: 'A list messages, warm container', ours: [], original: [], note: 'warm' },
        { operation: 'B list message groups', ours: [], original: [], note: 'the same Query; ours reads 21 items to know whether a next page exists' },
        { operation: 'C create in existing group, cold', ours: [], original: [], note: `${membershipNote}; the PutItem costs the same` },
        { operation: 'C create in existing group, warm', ours: [], original: [], note: 'warm' },
        {
          operation: 'C warm, as deployed: counted against the per-user POST limit',
          ours: [],
          original: [],
          note: "the message is counted in the user's RATE# window (one conditional UpdateItem, 1 WCU) beside the PutItem; the original has no limit",
        },
        {
          operation: 'D create for a new pair',
          ours: [],
          original: [],
          note: 'ours reads the pair (1 RCU), then one transaction of 5 puts (pair and group items added; 2x per item and GSI write) instead of an unchecked BatchWriteItem of 3: all-or-nothing, one group per pair (defects 2, 6, 7)',
        },
        {
          operation: 'D again, pair already has a group',
          ours: [],
          original: [],
          note: "ours finds the pair's group (1 RCU) and appends the message (1 WCU); the original creates a duplicate group every time (defect 6)",
        },
        {
          operation: 'C with an Idempotency-Key, warm',
          ours: [],
          original: [],
          note: "the message and its key's record in one transaction (2x per item): what storing a retried POST once costs; without a key, C is the plain PutItem above",
        },
        {
          operation: 'C retried with the same key (a replay)',
          ours: [],
          original: [],
          note: 'the transaction is refused on the record (not priced here: DynamoDB Local reports no units for a refused transaction), then the record is read (1 consistent GetItem); the original stores the message a second time',
        },
        {
          operation: 'D for a new pair with an Idempotency-Key',
          ours: [],
          original: [],
          note: "the record is a sixth item of the pair's transaction",
        },
        {
          operation: 'E stream update, 1 message in the batch',
          ours: [],
          original: [],
          note: 'ours: consistent GetItem of the group, a consistent Query counting the new messages for the unread counts, then one transaction (update the group and both counts, delete and put both summaries; 2x per item and GSI write); the original: GSI Query, then DeleteItem and PutItem per summary, not atomic (defect 2), and no read state',
        },
        {
          operation: `E per message, ${COALESCED_BATCH.records} messages over ${COALESCED_BATCH.groups} groups`,
          ours: [],
          original: [],
          perRecords: COALESCED_BATCH.records,
          note: 'ours moves each group once per batch, to its newest message (one read, one count, one transaction per group); the original pays a full update for every message',
        },
        {
          operation: 'mark read, up to the newest message (1 unread)',
          ours: [],
          original: [],
          note: "the newest message (Query, Limit 1, consistent), the group (consistent GetItem), then one transaction: the group's marker and count, the caller's summary (in the GSI) and a receipt item for the push; the original has no read state",
        },
        {
          operation: 'mark read again, nothing new',
          ours: [],
          original: [],
          note: 'the marker is already there: two reads, nothing written (and nothing pushed)',
        },
        {
          operation: `unread badge, ${HUB_GROUPS} conversations`,
          ours: [],
          original: [],
          note: "one Query of the caller's summaries (filtered to those with unread messages, projected to the count: the units are those of every summary read)",
        },
      ];
      const [
        listColdRow,
        listWarmRow,
        listGroupsRow,
        createColdRow,
        createWarmRow,
        limitedRow,
        createNewRow,
        createAgainRow,
        keyedRow,
        replayRow,
        keyedNewRow,
        streamRow,
        coalescedRow,
        markReadRow,
        markAgainRow,
        badgeRow,
      ] = rows as [Row, Row, Row, Row, Row, Row, Row, Row, Row, Row, Row, Row, Row, Row, Row, Row];
      const nothing = async () => undefined;

      // A container's messaging: a new one per cold measurement, one kept for the warm ones.
      const oursRepository = createMessagesRepository(oursClient, { tableName: table.tableName });
      const coldMessaging = () => createMessaging({ messages: oursRepository, users: directory });
      const warmMessaging = coldMessaging();
      const rateLimits = createRateLimitRepository(oursClient, { tableName: table.tableName });
      const limitedMessaging = createMessaging({
        messages: oursRepository,
        users: directory,
        postAllowance: { take: (sub) => rateLimits.take(sub, 'POST', { limit: 100_000, windowSeconds: 3600 }), describe: 'bench' },
      });
      await warmMessaging.listMessages(hubSub, groupUuid, {});
      await limitedMessaging.listMessages(hubSub, groupUuid, {});
      meters.ours.take();

      for (let repetition = 0; repetition < REPETITIONS; repetition += 1) {
        context.progress(`capacity: A-E, repetition ${repetition + 1}/${REPETITIONS}`);
        await measure(
          listColdRow,
          () => coldMessaging().listMessages(hubSub, groupUuid, {}),
          () => original.listMessages(groupUuid),
        );
        await measure(
          listWarmRow,
          () => warmMessaging.listMessages(hubSub, groupUuid, {}),
          () => original.listMessages(groupUuid),
        );
        await measure(
          listGroupsRow,
          () => warmMessaging.listMessageGroups(hubSub, {}),
          () => original.listMessageGroups(hub.user_uuid),
        );
        const create = { message: text, message_group_uuid: groupUuid };
        await measure(
          createColdRow,
          () => coldMessaging().createMessage(hubSub, create),
          () => original.createMessage(groupUuid, hub, text),
        );
        await measure(
          createWarmRow,
          () => warmMessaging.createMessage(hubSub, create),
          () => original.createMessage(groupUuid, hub, text),
        );
        await measure(
          limitedRow,
          () => limitedMessaging.createMessage(hubSub, create),
          () => original.createMessage(groupUuid, hub, text),
        );
        await measure(
          createNewRow,
          () => warmMessaging.createMessage(hubSub, { message: text, handle: newPeer('newcomer').handle }),
          () => original.createMessageGroup(hub, newPeer('newcomer'), text),
        );
        await measure(
          createAgainRow,
          () => warmMessaging.createMessage(hubSub, { message: text, handle: peers[1]!.handle }),
          () => original.createMessageGroup(hub, peers[1]!, text),
        );
        const key = randomUUID();
        await measure(
          keyedRow,
          () => warmMessaging.createMessage(hubSub, create, key),
          () => original.createMessage(groupUuid, hub, text),
        );
        await measure(
          replayRow,
          () => warmMessaging.createMessage(hubSub, create, key),
          () => original.createMessage(groupUuid, hub, text),
        );
        await measure(
          keyedNewRow,
          () => warmMessaging.createMessage(hubSub, { message: text, handle: newPeer('keyed').handle }, randomUUID()),
          () => original.createMessageGroup(hub, newPeer('keyed'), text),
        );
        const single = await streamBatches(1, 1);
        await measure(
          streamRow,
          () => ourStreamHandler({ Records: [...single.ours] }, streamLambdaContext()),
          () => original.messageStreamHandler({ Records: [...single.original] }),
        );
        // A peer's message the hub has not read, applied by E, then the hub marks the conversation read, twice.
        const peerSub = (await directory.findByHandle(peers[2]!.handle))!.cognito_user_id!;
        const { answer } = await warmMessaging.createMessage(peerSub, { message: text, handle: hub.handle });
        const peerRecords = filterEvents(MESSAGE_STREAM_SOURCE.filterPatterns, await reader.readNew()).filter(
          (record) => record.dynamodb?.Keys?.pk?.S === `MSG#${answer.message_group_uuid}`,
        );
        await ourStreamHandler({ Records: peerRecords }, streamLambdaContext());
        await warmMessaging.listMessages(hubSub, answer.message_group_uuid, {});
        await measure(markReadRow, () => warmMessaging.markRead(hubSub, answer.message_group_uuid, undefined), nothing);
        await measure(markAgainRow, () => warmMessaging.markRead(hubSub, answer.message_group_uuid, undefined), nothing);
        await measure(badgeRow, () => warmMessaging.unreadTotals(hubSub), nothing);
      }
      context.progress(`capacity: E over a batch of ${COALESCED_BATCH.records} messages to ${COALESCED_BATCH.groups} groups`);
      const batch = await streamBatches(COALESCED_BATCH.records, COALESCED_BATCH.groups);
      await measure(
        coalescedRow,
        () => ourStreamHandler({ Records: [...batch.ours] }, streamLambdaContext()),
        () => original.messageStreamHandler({ Records: [...batch.original] }),
      );
      return summarize(rows, calibration);
    } finally {
      await table.drop();
    }
  },
};

function summarize(rows: Row[], calibration: Calibration[]) {
  const per = (row: Row, usages: Usage[], pick: (usage: Usage) => number) => mean(usages.map(pick)) / (row.perRecords ?? 1);
  const figure = (row: Row, side: 'ours' | 'original') => ({
    requests: round(per(row, row[side], (usage) => usage.requests)),
    readUnits: round(per(row, row[side], (usage) => usage.readUnits)),
    writeUnits: round(per(row, row[side], (usage) => usage.writeUnits)),
    reportedWriteUnits: round(per(row, row[side], (usage) => usage.reportedWriteUnits)),
    // Zero when every repetition cost the same, as capacity should.
    spreadOfUnits: round(spread(row[side].map((usage) => usage.readUnits + usage.writeUnits))),
    operations: row[side][0]!.operations,
  });
  // A warm container's membership read is cached when the messaging domain caches members.
  for (const row of rows.filter((candidate) => candidate.note === 'warm')) {
    const reads = row.ours[0]!.operations.GetItem ?? 0;
    row.note =
      reads === 0
        ? "the container knows the group's members from its first request (they never change), so no membership read"
        : 'the membership GetItem again: the domain keeps no members between requests';
  }

  const calibrationTable: Table = {
    title: 'capacity: calibration (PutItem of items one by one, then the same kind of items in one TransactWriteItems)',
    columns: ['items', 'alone WCU', 'transaction, DynamoDB Local reports', 'transaction, priced here (2x alone)'],
    rows: calibration.map((entry) => [entry.items, entry.alone, entry.reported, entry.priced]),
    note: 'DynamoDB charges a transactional write twice a plain one; DynamoDB Local gets that right for one item but reports a multi-item transaction as if it held one, so transactions are priced from their items',
  };

  const table: Table = {
    title: 'capacity: consumed capacity units per operation, ours against the original (DynamoDB Local, ReturnConsumedCapacity TOTAL)',
    columns: ['operation', 'ours requests', 'ours RCU', 'ours WCU', 'original requests', 'original RCU', 'original WCU', 'why they differ'],
    rows: rows.map((row) => {
      const ours = figure(row, 'ours');
      const original = figure(row, 'original');
      return [row.operation, ours.requests, ours.readUnits, ours.writeUnits, original.requests, original.readUnits, original.writeUnits, row.note];
    }),
    note: `mean of ${REPETITIONS} runs (E over a batch: one batch, per message); units include the GSI's; RCU = units of reads (GetItem, Query), WCU = units of writes, transactions priced as in the calibration`,
  };

  return {
    tables: [calibrationTable, table],
    targets: [],
    figures: {
      calibration,
      operations: rows.map((row) => ({
        operation: row.operation,
        perRecords: row.perRecords ?? 1,
        note: row.note,
        ours: figure(row, 'ours'),
        original: figure(row, 'original'),
      })),
    },
  };
}
