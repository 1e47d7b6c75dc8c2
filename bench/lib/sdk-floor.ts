/**
 * The cold-start benchmark's floor: the least a DynamoDB-backed function does. Bundled by
 * `bundleFunction` exactly as the catalog's functions are, it creates the DynamoDB client at
 * module scope, as they do, and sends one GetItem per invocation.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

const client = new DynamoDBClient({});

export const handler = async (): Promise<{ statusCode: number }> => {
  await client.send(new GetItemCommand({ TableName: process.env.TABLE_NAME, Key: { pk: { S: 'BENCH#floor' }, sk: { S: 'BENCH#floor' } } }));
  return { statusCode: 200 };
};
