/** Creating the messages table from the model's one definition (the infrastructure reads the same). */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { messagesTableSchema } from '../../functions/data/model';

/** A DynamoDB client, or a document client (which sends plain DynamoDB commands too). */
export type AnyDynamoDBClient = DynamoDBClient | DynamoDBDocumentClient;

/** The CreateTable request for the messages table: on-demand billing, stream NEW_IMAGE. */
export function createTableInput(tableName: string): CreateTableCommandInput {
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

export async function tableExists(client: AnyDynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await (client as DynamoDBClient).send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
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
  return outcome;
}
