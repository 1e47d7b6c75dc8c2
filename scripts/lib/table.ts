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
import { messagesTableSchema } from '../../functions/commons/model';

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

export async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/** Creates the table unless it exists, and waits until it is ACTIVE. Idempotent. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  let outcome: 'created' | 'exists' = 'created';
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    outcome = 'exists';
  }
  await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: tableName });
  return outcome;
}
