/**
 * The AWS SDK clients of the functions: created once per container, on first use, and
 * reused while it is warm. Where they point comes from the SDK's own settings (region,
 * credentials, `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local), so nothing here differs
 * between AWS and the local emulator.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** A document client over a new DynamoDB client (tools and tests pass where it points). */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } });
}

let documentClient: DynamoDBDocumentClient | undefined;

/** The container's one document client (the emulator adds its fault injection to this one). */
export function sharedDocumentClient(): DynamoDBDocumentClient {
  return (documentClient ??= createDocumentClient());
}
