/**
 * The `cruddur-messages` table exactly as the data model declares it (`messagesTableSchema`:
 * keys, attribute definitions, the `message-group-sk-index` GSI, the stream view type), with
 * point-in-time recovery and server-side encryption always on.
 */
import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { messagesTableSchema } from '../../functions/data/model';
import type { BillingMode } from '../config';

export interface MessagesTableOptions {
  name: string;
  /** On-demand by default; PROVISIONED applies `provisionedCapacity` to the table and the GSI. */
  billingMode: BillingMode;
  provisionedCapacity: { read: number; write: number };
  deletionProtection: boolean;
  /**
   * The table already exists (the original's `cruddur-messages`, migrated): the first apply
   * imports it (a Terraform import block) and then brings it to this declaration in place.
   */
  adoptExisting: boolean;
}

export class MessagesTable extends Construct {
  public readonly table: DynamodbTable;
  public readonly tableName: string;
  public readonly tableArn: string;
  /** ARN of the stream (NEW_IMAGE) the stream consumer reads. */
  public readonly streamArn: string;

  constructor(scope: Construct, id: string, options: MessagesTableOptions) {
    super(scope, id);
    const provisioned = options.billingMode === 'PROVISIONED';
    const capacity = provisioned ? { readCapacity: options.provisionedCapacity.read, writeCapacity: options.provisionedCapacity.write } : {};

    this.table = new DynamodbTable(this, 'table', {
      name: options.name,
      billingMode: options.billingMode,
      ...capacity,
      hashKey: messagesTableSchema.partitionKey,
      rangeKey: messagesTableSchema.sortKey,
      attribute: messagesTableSchema.attributes.map(({ name, type }) => ({ name, type })),
      globalSecondaryIndex: messagesTableSchema.globalSecondaryIndexes.map((index) => ({
        name: index.name,
        hashKey: index.partitionKey,
        rangeKey: index.sortKey,
        projectionType: index.projection,
        ...capacity,
      })),
      streamEnabled: true,
      streamViewType: messagesTableSchema.streamViewType,
      // Idempotency records and WebSocket connection items expire (functions/data/model).
      ttl: { attributeName: messagesTableSchema.timeToLiveAttribute, enabled: true },
      pointInTimeRecovery: { enabled: true },
      // Encrypted with the AWS managed KMS key (aws/dynamodb) rather than the AWS owned key.
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: options.deletionProtection,
    });
    if (options.adoptExisting) this.table.importFrom(options.name);
    this.tableName = this.table.name;
    this.tableArn = this.table.arn;
    this.streamArn = this.table.streamArn;
  }
}
