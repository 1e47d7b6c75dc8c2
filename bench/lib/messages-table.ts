/**
 * What the stream and capacity benchmarks share: a fresh messages table of the real schema
 * in DynamoDB Local, people to write as, our stream handler wired as Lambda runs it, and a
 * meter of the DynamoDB requests and capacity units a client sends.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { functionNamed } from '../../functions/catalog';
import { reportConsumedCapacity, totalUnits } from '../../scripts/lib/capacity';
import { localDocumentClient } from '../../local/aws';
import { createMessagesRepository } from '../../functions/data/messages-repository';
import { createTableAdmin, type TableAdmin } from '../../scripts/lib/table-admin';
import {
  buildGroupItem,
  buildGroupSummaryItems,
  buildMessageItem,
  buildPairItem,
  KeyPrefix,
  type MessageItem,
  type Participant,
} from '../../functions/data/model';
import { createMessageStreamHandler } from '../../functions/message-stream/index';
import { ensureTable } from '../../scripts/lib/table';
import { lambdaContext } from '../../local/lambda';
import { openStreamTail, type StreamTail } from '../../local/streams/shard-reader';

export interface BenchTable {
  tableName: string;
  /** For setting up and checking; not metered. */
  client: DynamoDBDocumentClient;
  /** Set-up writes (BatchWriteItem) and summary reads over `client`. */
  admin: TableAdmin;
  /** The table's stream, as Lambda would deliver its records. */
  reader: StreamTail;
  /** A client of its own, so a meter on it sees one side's requests only. */
  newClient(): DynamoDBDocumentClient;
  drop(): Promise<void>;
}

/** A new messages table (GSI, stream NEW_IMAGE) on DynamoDB Local at `endpoint`, its stream open. */
export async function createBenchTable(endpoint: string, prefix: string): Promise<BenchTable> {
  const tableName = `${prefix}-${randomUUID().slice(0, 8)}`;
  const clients: DynamoDBDocumentClient[] = [];
  const newClient = () => {
    const client = localDocumentClient(endpoint);
    clients.push(client);
    return client;
  };
  const client = newClient();
  await ensureTable(client as unknown as DynamoDBClient, tableName);
  const reader = await openStreamTail(client, tableName);
  return {
    tableName,
    client,
    admin: createTableAdmin(client, tableName),
    reader,
    newClient,
    async drop() {
      reader.close();
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      for (const each of clients) each.destroy();
    },
  };
}

/** A person with a unique uuid and handle. */
export function participant(name: string): Participant {
  const suffix = randomUUID().slice(0, 8);
  return { user_uuid: randomUUID(), display_name: `${name} ${suffix}`, handle: `${name}_${suffix}` };
}

/**
 * A conversation as patterns D and C leave it: the pair and group items, both summaries at
 * its newest message, and its messages, the first at `startMs` and one a millisecond after
 * another. For the table admin's `putItems` (BatchWriteItem), which sets a benchmark up in a
 * few requests where one transaction per group takes long on a busy DynamoDB Local; the
 * items, and so the stream records, are the same.
 */
export function conversationItems(members: [Participant, Participant], texts: readonly string[], startMs: number) {
  const groupUuid = randomUUID();
  const messages: MessageItem[] = texts.map((text, index) =>
    buildMessageItem({ groupUuid, messageUuid: randomUUID(), sender: members[index % 2]!, text, createdAt: new Date(startMs + index).toISOString() }),
  );
  const [first, newest] = [messages[0]!, messages[messages.length - 1]!];
  const state = { groupUuid, members, lastMessageSk: newest.sk, lastMessage: newest.message };
  const items = [
    buildPairItem(members[0].user_uuid, members[1].user_uuid, groupUuid, first.created_at),
    buildGroupItem({ ...state, createdAt: first.created_at }),
    ...buildGroupSummaryItems(state),
    ...messages,
  ];
  return { groupUuid, items: asItems(items) };
}

/** Items as `putItems` takes them. */
export const asItems = (items: readonly object[]): Record<string, unknown>[] => items.map((item) => ({ ...item }));

const READ_OPERATIONS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

/** What a client sent since the meter was last read. */
export interface Usage {
  requests: number;
  /** Requests per operation (`GetItem`, `TransactWriteItems`, ...). */
  operations: Record<string, number>;
  /** Capacity units of read operations. */
  readUnits: number;
  /**
   * Capacity units of write operations, GSI writes included. For TransactWriteItems these
   * are DynamoDB's price (see {@link transactionWriteUnits}), not DynamoDB Local's figure.
   */
  writeUnits: number;
  /** The write units as DynamoDB Local reported them, transactions under-counted. */
  reportedWriteUnits: number;
}

/** A TransactWriteItems action as the document client sends it (before or after marshalling). */
interface TransactAction {
  Put?: { Item?: Record<string, unknown> };
  Update?: { Key?: Record<string, unknown> };
  Delete?: { Key?: Record<string, unknown> };
  ConditionCheck?: unknown;
}

const partitionKeyOf = (key: Record<string, unknown> | undefined): string | undefined => {
  const pk = key?.pk;
  return typeof pk === 'string' ? pk : (pk as { S?: string } | undefined)?.S;
};

/**
 * What DynamoDB charges for a TransactWriteItems: twice the units of each action's write
 * done alone, i.e. 2 per KB of item and 2 more when the item is in the GSI (only group
 * summaries are: docs/data-model.md). DynamoDB Local reports a multi-item transaction as if
 * it held one item (a 5-put transaction as 2 units), so the benchmark prices it itself; the
 * calibration table checks the rule against single writes DynamoDB Local does report right.
 * Sizes are bounded by the JSON of the put item (an overestimate); deleted and updated
 * items are taken to be under 1 KB, as every group and summary item of this model is.
 */
function transactionWriteUnits(actions: readonly TransactAction[]): number {
  let units = 0;
  for (const action of actions) {
    if (action.ConditionCheck !== undefined) continue;
    const item = action.Put?.Item;
    const kilobytes = item === undefined ? 1 : Math.max(1, Math.ceil(JSON.stringify(item).length / 1024));
    const inIndex =
      item !== undefined ? 'message_group_uuid' in item : (partitionKeyOf(action.Update?.Key ?? action.Delete?.Key) ?? '').startsWith(KeyPrefix.groupSummary);
    units += 2 * (kilobytes + (inIndex ? kilobytes : 0));
  }
  return units;
}

/**
 * Meters every request of `client` through `reportConsumedCapacity`, which also makes each
 * request return its consumed capacity. DynamoDB Local reports one total per request, not
 * read and write units apart, so units are read or write by the operation that used them.
 */
export function meterRequests(client: DynamoDBDocumentClient): { take(): Usage } {
  const empty = (): Usage => ({ requests: 0, operations: {}, readUnits: 0, writeUnits: 0, reportedWriteUnits: 0 });
  let usage = empty();
  // Transactions are priced from their input (see transactionWriteUnits); requests are
  // serial per meter in these benchmarks, except our stream handler's concurrent groups,
  // whose transactions are each priced on their own.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'TransactWriteItemsCommand') {
        usage.writeUnits += transactionWriteUnits((args.input as { TransactItems?: TransactAction[] }).TransactItems ?? []);
      }
      return result;
    },
    { step: 'initialize', name: 'benchTransactionPrice' },
  );
  reportConsumedCapacity(client, (entry) => {
    const operation = entry.command.replace(/Command$/, '');
    usage.requests += 1;
    usage.operations[operation] = (usage.operations[operation] ?? 0) + 1;
    if (READ_OPERATIONS.has(operation)) {
      usage.readUnits += totalUnits(entry);
      return;
    }
    usage.reportedWriteUnits += totalUnits(entry);
    if (operation !== 'TransactWriteItems') usage.writeUnits += totalUnits(entry);
  });
  return {
    take() {
      const taken = usage;
      usage = empty();
      return taken;
    },
  };
}

/** Our stream function's handler (functions/message-stream) over `client`, logging nothing. */
export function createOurStreamHandler(client: DynamoDBDocumentClient, tableName: string) {
  return createMessageStreamHandler({
    summaryMover: (retry) => createMessagesRepository(client, { tableName, retry }),
    logger: new Logger({ serviceName: 'message-stream-bench', logLevel: 'SILENT' }),
  });
}

/** A fresh Lambda context of the catalog's message-stream function (its timeout and memory). */
export function streamLambdaContext(): Context {
  return lambdaContext(functionNamed('message-stream'));
}
