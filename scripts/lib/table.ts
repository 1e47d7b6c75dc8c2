/** Creating the messages table from the model's one definition (the infrastructure reads the same). */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  ResourceInUseException,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { messagesTableSchema } from '../../functions/data/model';

/** A DynamoDB client, or a document client (which sends plain DynamoDB commands too). */
export type AnyDynamoDBClient = DynamoDBClient | DynamoDBDocumentClient;

/** The CreateTable request for the messages table: on-demand billing, stream NEW_IMAGE. */
function createTableInput(tableName: string): CreateTableCommandInput {
  const schema = messagesTableSchema;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: schema.attributes.map(({ name, type }) => ({ AttributeName: name, AttributeType: type })),
    KeySchema: [
      { AttributeName: schema.partitionKey, KeyType: 'HASH' },
      { AttributeName: schema.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: schema.globalSecondaryIndexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: index.projection },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: schema.streamViewType },
  };
}

/** Creates the table unless it exists, and waits until it is ACTIVE. Idempotent. */
export async function ensureTable(client: AnyDynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  let outcome: 'created' | 'exists' = 'created';
  try {
    await (client as DynamoDBClient).send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    outcome = 'exists';
  }
  await waitUntilTableExists({ client: client as DynamoDBClient, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: tableName });
  // CreateTable cannot name a TTL attribute: it is one more request.
  if (outcome === 'created') await enableTimeToLive(client, tableName);
  return outcome;
}

/** Turns on the model's TTL attribute (idempotency records expire by it). */
export async function enableTimeToLive(client: AnyDynamoDBClient, tableName: string): Promise<void> {
  await (client as DynamoDBClient).send(
    new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: messagesTableSchema.timeToLiveAttribute } }),
  );
}

/** Something about an existing table that differs from the model. */
export interface TableProblem {
  kind: 'keys' | 'index-missing' | 'index-differs' | 'no-stream' | 'stream-view-type' | 'no-ttl' | 'other-ttl';
  /** `breaks`: the system cannot work on this table; `differs`: it works, but not as declared. */
  severity: 'breaks' | 'differs';
  what: string;
  /** What to do about it. */
  fix: string;
}

/**
 * How an existing table differs from the model's definition: the keys, the GSI and its keys,
 * the stream and its view type. `awsCli` is the start of an AWS CLI command for the fixes
 * (`aws dynamodb`, with `--endpoint-url` for DynamoDB Local).
 * @throws ResourceNotFoundException when the table does not exist.
 */
export async function checkTable(client: AnyDynamoDBClient, tableName: string, awsCli = 'aws dynamodb'): Promise<TableProblem[]> {
  const { Table: table } = await (client as DynamoDBClient).send(new DescribeTableCommand({ TableName: tableName }));
  const schema = messagesTableSchema;
  const problems: TableProblem[] = [];
  const typeOf = (name: string) => table?.AttributeDefinitions?.find((definition) => definition.AttributeName === name)?.AttributeType;
  const keysOf = (keySchema: { AttributeName?: string; KeyType?: string }[] | undefined) =>
    (keySchema ?? []).map((key) => `${key.AttributeName} (${typeOf(key.AttributeName ?? '') ?? '?'}, ${key.KeyType})`).join(', ');
  const wantedKeys = `${schema.partitionKey} (S, HASH), ${schema.sortKey} (S, RANGE)`;

  if (keysOf(table?.KeySchema) !== wantedKeys) {
    problems.push({
      kind: 'keys',
      severity: 'breaks',
      what: `its keys are ${keysOf(table?.KeySchema) || 'none'}, not ${wantedKeys}`,
      fix: 'keys cannot be changed: create a table of another name (TABLE_NAME=... npm run ddb:schema-load) and copy the items over',
    });
  }

  for (const wanted of schema.globalSecondaryIndexes) {
    const index = table?.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === wanted.name);
    const wantedIndexKeys = `${wanted.partitionKey} (S, HASH), ${wanted.sortKey} (S, RANGE)`;
    if (index === undefined) {
      problems.push({
        kind: 'index-missing',
        severity: 'differs',
        what: `it has no GSI ${wanted.name}: the functions do not use it, but the original's scripts and \`ddb:*\` diagnostics do`,
        fix: `${awsCli} update-table --table-name ${tableName} --attribute-definitions AttributeName=${wanted.partitionKey},AttributeType=S AttributeName=${wanted.sortKey},AttributeType=S --global-secondary-index-updates '[{"Create":{"IndexName":"${wanted.name}","KeySchema":[{"AttributeName":"${wanted.partitionKey}","KeyType":"HASH"},{"AttributeName":"${wanted.sortKey}","KeyType":"RANGE"}],"Projection":{"ProjectionType":"${wanted.projection}"}}}]'${table?.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST' ? '' : ' (add "ProvisionedThroughput" inside "Create" for a provisioned table)'}`,
      });
    } else if (keysOf(index.KeySchema) !== wantedIndexKeys || index.Projection?.ProjectionType !== wanted.projection) {
      problems.push({
        kind: 'index-differs',
        severity: 'differs',
        what: `its GSI ${wanted.name} has keys ${keysOf(index.KeySchema)} and projection ${index.Projection?.ProjectionType}, not ${wantedIndexKeys} and ${wanted.projection}`,
        fix: `delete the index (${awsCli} update-table --table-name ${tableName} --global-secondary-index-updates '[{"Delete":{"IndexName":"${wanted.name}"}}]') and run npm run ddb:schema-load again for the command that creates it`,
      });
    }
  }

  const stream = table?.StreamSpecification;
  const enable = `${awsCli} update-table --table-name ${tableName} --stream-specification StreamEnabled=true,StreamViewType=${schema.streamViewType}`;
  if (stream?.StreamEnabled !== true) {
    problems.push({
      kind: 'no-stream',
      severity: 'breaks',
      what: 'it has no stream: nothing would move the conversation summaries (pattern E)',
      fix: enable,
    });
  } else if (stream.StreamViewType !== 'NEW_IMAGE' && stream.StreamViewType !== 'NEW_AND_OLD_IMAGES') {
    problems.push({
      kind: 'stream-view-type',
      severity: 'breaks',
      what: `its stream's view type is ${stream.StreamViewType}: the stream consumer needs the new image of each item`,
      fix: `a stream's view type cannot change: disable it (${awsCli} update-table --table-name ${tableName} --stream-specification StreamEnabled=false), then ${enable}`,
    });
  }
  const ttl = (await (client as DynamoDBClient).send(new DescribeTimeToLiveCommand({ TableName: tableName }))).TimeToLiveDescription;
  if (ttl?.TimeToLiveStatus !== 'ENABLED' && ttl?.TimeToLiveStatus !== 'ENABLING') {
    problems.push({
      kind: 'no-ttl',
      severity: 'differs',
      what: `its time to live is off: Idempotency-Key records would stay after their day (they are ignored once expired, but kept)`,
      fix: `${awsCli} update-time-to-live --table-name ${tableName} --time-to-live-specification Enabled=true,AttributeName=${schema.timeToLiveAttribute}`,
    });
  } else if (ttl.AttributeName !== schema.timeToLiveAttribute) {
    problems.push({
      kind: 'other-ttl',
      severity: 'differs',
      what: `its time to live uses ${ttl.AttributeName}, not ${schema.timeToLiveAttribute}: Idempotency-Key records would stay after their day`,
      fix: `DynamoDB takes one TTL attribute per table; records are ignored once expired either way`,
    });
  }
  return problems;
}
