/**
 * What every local AWS endpoint shares: the region and account id the emulator reports, and
 * the dummy credentials its clients send. DynamoDB Local and cognito-local accept any
 * credentials; fixed ones keep the SDK from looking for a real profile, so nothing here
 * needs an AWS account.
 */
import { createDocumentClient } from '../functions/clients/dynamodb';

export const LOCAL_REGION = 'us-east-1';
/** The account id in local ARNs (DynamoDB Local uses the same). */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** SDK client settings for a service of the emulator at `endpoint`. */
export function localClientConfig(endpoint: string) {
  return { endpoint, region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS } };
}

/** A document client of DynamoDB Local at `endpoint`. */
export function localDocumentClient(endpoint: string) {
  return createDocumentClient(localClientConfig(endpoint));
}
