/**
 * Pattern E's throughput: records per second and DynamoDB requests per record of our
 * stream handler (functions/message-stream) against the original's algorithm
 * (bench/lib/original.ts), on DynamoDB Local.
 *
 * Each repetition gives both sides fresh groups and a fresh batch of messages, the items
 * patterns D and C write, and takes the records DynamoDB Local's stream really emitted,
 * filtered as the event source mapping filters them. Only the handler call is timed; ours
 * and the baseline alternate which goes first. The first repetition of every combination
 * checks that both sides left each group's summaries at the message they should show, so
 * neither is measured doing less work.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBRecord } from 'aws-lambda';
import { MESSAGE_STREAM_SOURCE } from '../functions/catalog';
import type { TableAdmin } from '../scripts/lib/table-admin';
import { buildMessageItem, type MessageItem, type Participant } from '../functions/data/model';
import { filterEvents } from '../local/streams/filter';
import type { Benchmark, BenchContext, Table, Target } from './lib/harness';
import { elapsedMs, ratio, round } from './lib/stats';
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
import type { StreamTail } from '../local/streams/shard-reader';

/**
 * Batch size by number of groups. A batch of 1 record touches 1 group, and 10 records
 * cannot span 100 groups, so combinations with more groups than records are left out.
 */
const COMBINATIONS = [
  { records: 1, groups: 1 },
  { records: 10, groups: 1 },
  { records: 10, groups: 10 },
  { records: 100, groups: 1 },
  { records: 100, groups: 10 },
  { records: 100, groups: 100 },
] as const;

/**
 * Repetitions per batch size, at least and at most: small batches are quick and noisier,
 * so they get more. Past the minimum, a combination stops once its handlers have run for
 * {@link BUDGET_MS}, so a busy machine lengthens the run by less.
 */
const REPETITIONS: Record<number, { min: number; max: number }> = { 1: { min: 5, max: 40 }, 10: { min: 3, max: 16 }, 100: { min: 1, max: 5 } };
const BUDGET_MS = 10_000;

/** The targets. */
const TARGET_SPEED_UP = 5;
const TARGET_REQUESTS_PER_GROUP = 2;

type Side = 'ours' | 'baseline';

interface SideFigures {
  /** Handler time of each repetition. */
  milliseconds: number[];
  requests: number;
  operations: Record<string, number>;
}

interface CombinationFigures {
  records: number;
  groups: number;
  repetitions: number;
  ours: SideFigures;
  baseline: SideFigures;
}

/** One repetition's input: each side's own groups and the stream records of its batch. */
interface PreparedBatch {
  records: Record<Side, DynamoDBRecord[]>;
}

const groupOfRecord = (record: DynamoDBRecord) => record.dynamodb!.Keys!.pk!.S!.replace(/^MSG#/, '');
const textOfRecord = (record: DynamoDBRecord) => record.dynamodb!.NewImage!.message!.S!;

/**
 * Gives each side `groups` new groups, then `records` new messages spread round-robin over
 * them (so the groups' records interleave in the stream as a busy table's do), and returns
 * each side's stream records.
 *
 * The items are those patterns D and C write, put with the repository's BatchWriteItem
 * (see `conversationItems`); the stream records are the same INSERTs either way.
 */
async function prepareBatch(admin: TableAdmin, reader: StreamTail, records: number, groups: number): Promise<PreparedBatch> {
  const sides: Side[] = ['ours', 'baseline'];
  const start = Date.now();
  const groupsOf = new Map<Side, { groupUuid: string; sender: Participant }[]>();
  const groupItems: Record<string, unknown>[] = [];
  for (const side of sides) {
    const hub = participant(`hub_${side}`);
    const created = Array.from({ length: groups }, (_, index) => {
      const members: [Participant, Participant] = [hub, participant(`peer${index}`)];
      // A second before the batch, so every message of the batch is newer.
      const { groupUuid, items } = conversationItems(members, [`hello ${index}`], start - 1000);
      groupItems.push(...items);
      return { groupUuid, sender: members[1] };
    });
    groupsOf.set(side, created);
  }
  await admin.putItems(groupItems);
  // The groups' own records are not part of the batch.
  await reader.readNew();

  const sideOf = new Map<string, Side>();
  const messages: MessageItem[] = [];
  for (const side of sides) {
    const created = groupsOf.get(side)!;
    for (const { groupUuid } of created) sideOf.set(groupUuid, side);
    for (let index = 0; index < records; index += 1) {
      const { groupUuid, sender } = created[index % groups]!;
      messages.push(
        buildMessageItem({
          groupUuid,
          messageUuid: randomUUID(),
          sender,
          text: `Message ${index} of the batch, about the weekend plans`,
          createdAt: new Date(start + index).toISOString(),
        }),
      );
    }
  }
  await admin.putItems(asItems(messages));

  const delivered = filterEvents(MESSAGE_STREAM_SOURCE.filterPatterns, await reader.readNew());
  const batch: Record<Side, DynamoDBRecord[]> = { ours: [], baseline: [] };
  for (const record of delivered) batch[sideOf.get(groupOfRecord(record))!].push(record);
  for (const side of sides) {
    if (batch[side].length !== records) throw new Error(`Expected ${records} stream records for ${side}, got ${batch[side].length}`);
  }
  return { records: batch };
}

/**
 * What each group's two summaries must show after the batch: ours, the newest message by
 * key; the original, the last record it handled (it has no notion of order).
 */
function expectedTexts(records: readonly DynamoDBRecord[], side: Side): Map<string, string> {
  const expected = new Map<string, { sk: string; text: string }>();
  for (const record of records) {
    const groupUuid = groupOfRecord(record);
    const sk = record.dynamodb!.Keys!.sk!.S!;
    const current = expected.get(groupUuid);
    if (side === 'baseline' || current === undefined || sk > current.sk) expected.set(groupUuid, { sk, text: textOfRecord(record) });
  }
  return new Map([...expected].map(([groupUuid, { text }]) => [groupUuid, text]));
}

async function checkSummaries(admin: TableAdmin, records: readonly DynamoDBRecord[], side: Side): Promise<void> {
  for (const [groupUuid, text] of expectedTexts(records, side)) {
    const summaries = await admin.listSummariesOfGroup(groupUuid);
    if (summaries.length !== 2 || summaries.some((summary) => summary.message !== text)) {
      throw new Error(
        `${side}: group ${groupUuid} shows ${JSON.stringify(summaries.map((summary) => summary.message))}, expected twice ${JSON.stringify(text)}`,
      );
    }
  }
}

export const benchmark: Benchmark = {
  name: 'stream',
  summary: 'Pattern E: records/s and DynamoDB requests per record of our stream handler against the original algorithm, on DynamoDB Local',
  async run(context: BenchContext) {
    const services = await context.services();
    const table = await createBenchTable(services.dynamodb.url, 'cruddur-bench-stream');
    const { reader, admin } = table;
    // Each side on a client of its own, so each meter counts one side's requests.
    const oursClient = table.newClient();
    const baselineClient = table.newClient();
    const meters: Record<Side, { take(): Usage }> = { ours: meterRequests(oursClient), baseline: meterRequests(baselineClient) };
    const ours = createOurStreamHandler(oursClient, table.tableName);
    const original = createOriginalMessages(baselineClient, table.tableName);

    async function runSide(side: Side, records: DynamoDBRecord[]): Promise<{ ms: number; usage: Usage }> {
      const event = { Records: [...records] };
      const lambdaContext = streamLambdaContext();
      meters[side].take();
      const start = process.hrtime.bigint();
      if (side === 'ours') {
        const response = await ours(event, lambdaContext);
        if (response.batchItemFailures.length > 0) throw new Error(`Our handler failed ${response.batchItemFailures.length} record(s)`);
      } else {
        await original.messageStreamHandler(event);
      }
      const ms = elapsedMs(start);
      return { ms, usage: meters[side].take() };
    }

    try {
      // Warm-up, not counted: connections, the JIT, DynamoDB Local's first requests.
      context.progress('stream: warming up (10 records over 10 groups, both sides)');
      const warmUp = await prepareBatch(admin, reader, 10, 10);
      await runSide('ours', warmUp.records.ours);
      await runSide('baseline', warmUp.records.baseline);

      const results: CombinationFigures[] = [];
      for (const { records, groups } of COMBINATIONS) {
        const { min, max } = REPETITIONS[records]!;
        const figures: CombinationFigures = {
          records,
          groups,
          repetitions: 0,
          ours: { milliseconds: [], requests: 0, operations: {} },
          baseline: { milliseconds: [], requests: 0, operations: {} },
        };
        const spent = () => sum(figures.ours.milliseconds) + sum(figures.baseline.milliseconds);
        for (let repetition = 0; repetition < max && (repetition < min || spent() < BUDGET_MS); repetition += 1) {
          figures.repetitions += 1;
          const batch = await prepareBatch(admin, reader, records, groups);
          // Alternate who goes first, so neither always meets a warmer or busier table.
          const order: Side[] = repetition % 2 === 0 ? ['ours', 'baseline'] : ['baseline', 'ours'];
          for (const side of order) {
            const { ms, usage } = await runSide(side, batch.records[side]);
            figures[side].milliseconds.push(ms);
            figures[side].requests += usage.requests;
            for (const [operation, count] of Object.entries(usage.operations))
              figures[side].operations[operation] = (figures[side].operations[operation] ?? 0) + count;
          }
          if (repetition === 0) {
            await checkSummaries(admin, batch.records.ours, 'ours');
            await checkSummaries(admin, batch.records.baseline, 'baseline');
          }
        }
        results.push(figures);
        const rate = (side: SideFigures) => round((records * figures.repetitions) / (sum(side.milliseconds) / 1000));
        context.progress(
          `stream: ${records} record(s) over ${groups} group(s), ${figures.repetitions} repetitions: ours ${rate(figures.ours)} rec/s, baseline ${rate(figures.baseline)} rec/s`,
        );
      }
      return summarize(results);
    } finally {
      await table.drop();
    }
  },
};

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

function summarize(results: CombinationFigures[]): { tables: Table[]; targets: Target[]; figures: Record<string, unknown> } {
  const rows = results.map((figures) => {
    const total = figures.records * figures.repetitions;
    const oursRate = total / (sum(figures.ours.milliseconds) / 1000);
    const baselineRate = total / (sum(figures.baseline.milliseconds) / 1000);
    return {
      ...figures,
      oursRate,
      baselineRate,
      speedUp: oursRate / baselineRate,
      oursRequestsPerRecord: figures.ours.requests / total,
      baselineRequestsPerRecord: figures.baseline.requests / total,
      oursRequestsPerGroupPerBatch: figures.ours.requests / (figures.groups * figures.repetitions),
    };
  });

  const table: Table = {
    title: 'stream: pattern E, our handler against the original algorithm (DynamoDB Local)',
    columns: ['batch size', 'groups', 'ours rec/s', 'baseline rec/s', 'speed-up', 'ours req/record', 'baseline req/record', 'ours req/group/batch'],
    rows: rows.map((row) => [
      row.records,
      row.groups,
      round(row.oursRate),
      round(row.baselineRate),
      ratio(row.oursRate, row.baselineRate),
      round(row.oursRequestsPerRecord),
      round(row.baselineRequestsPerRecord),
      round(row.oursRequestsPerGroupPerBatch),
    ]),
    note: 'records/s = records handled / handler time, summed over the repetitions; baseline = the original per-record GSI query, then DeleteItem and PutItem per summary (bench/lib/original.ts), run on every record; same records, same table, interleaved',
  };

  const target = rows.find((row) => row.records === 100 && row.groups === 10)!;
  const worstRequests = Math.max(...rows.map((row) => row.oursRequestsPerGroupPerBatch));
  const targets: Target[] = [
    {
      name: 'throughput at 100 records over 10 groups',
      target: `>= ${TARGET_SPEED_UP}x baseline records/s`,
      actual: ratio(target.oursRate, target.baselineRate),
      met: target.speedUp >= TARGET_SPEED_UP,
      ...(target.speedUp >= TARGET_SPEED_UP ? {} : { comment: `${round(TARGET_SPEED_UP / target.speedUp)}x short` }),
    },
    {
      name: 'DynamoDB requests per group per batch (worst combination)',
      target: `<= ${TARGET_REQUESTS_PER_GROUP}`,
      actual: String(round(worstRequests)),
      met: worstRequests <= TARGET_REQUESTS_PER_GROUP,
      ...(worstRequests <= TARGET_REQUESTS_PER_GROUP
        ? {}
        : {
            comment:
              worstRequests <= TARGET_REQUESTS_PER_GROUP + 1
                ? 'read state: a Query counting the new messages for the unread counts (set before read state existed)'
                : 'retries of conflicting transactions',
          }),
    },
  ];

  return {
    tables: [table],
    targets,
    figures: {
      combinations: rows.map((row) => ({
        records: row.records,
        groups: row.groups,
        repetitions: row.repetitions,
        oursRecordsPerSecond: round(row.oursRate),
        baselineRecordsPerSecond: round(row.baselineRate),
        speedUp: round(row.speedUp),
        oursRequestsPerRecord: round(row.oursRequestsPerRecord),
        baselineRequestsPerRecord: round(row.baselineRequestsPerRecord),
        oursRequestsPerGroupPerBatch: round(row.oursRequestsPerGroupPerBatch),
        oursOperations: row.ours.operations,
        baselineOperations: row.baseline.operations,
        oursMilliseconds: row.ours.milliseconds.map((ms) => round(ms)),
        baselineMilliseconds: row.baseline.milliseconds.map((ms) => round(ms)),
      })),
    },
  };
}
