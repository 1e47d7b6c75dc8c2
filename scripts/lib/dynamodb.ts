/** DynamoDB clients for scripts, pointed by `--prod`. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../functions/commons/clients';
import { dynamoDbEndpoint } from './targets';

/** A document client for the chosen target; its `.send` also takes plain DynamoDB commands. */
export function scriptDocumentClient(prod: boolean): DynamoDBDocumentClient {
  return createDocumentClient({ endpoint: dynamoDbEndpoint(prod) });
}

/** The same client typed as the low-level client (the document client wraps one). */
export function asLowLevel(client: DynamoDBDocumentClient): DynamoDBClient {
  return client as unknown as DynamoDBClient;
}

/** Where a script is pointed, for its first line of output. */
export function describeTarget(prod: boolean, tableName: string): string {
  return prod ? `table ${tableName} in AWS (${process.env.AWS_REGION ?? 'default region'})` : `table ${tableName} in DynamoDB Local at ${dynamoDbEndpoint(false)}`;
}
