/**
 * The messages table itself: its name, its index and its key schema, as the schema-load
 * script creates it and the infrastructure declares it. `docs/data-model.md` explains the design.
 */

export const DEFAULT_TABLE_NAME = 'cruddur-messages';
export const GROUP_SK_INDEX = 'message-group-sk-index';

/**
 * The table as the schema-load script creates it and the infrastructure declares it.
 * Only key attributes are declared; everything else is schemaless.
 */
export const messagesTableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  attributes: [
    { name: 'pk', type: 'S' },
    { name: 'sk', type: 'S' },
    { name: 'message_group_uuid', type: 'S' },
  ],
  globalSecondaryIndexes: [{ name: GROUP_SK_INDEX, partitionKey: 'message_group_uuid', sortKey: 'sk', projection: 'ALL' }],
  /** The stream consumer only needs what was written. */
  streamViewType: 'NEW_IMAGE',
  /** Items with this attribute (epoch seconds) are deleted by DynamoDB after that time: idempotency records, WebSocket connections, user directory entries, rate-limit windows, read receipts. */
  timeToLiveAttribute: 'expires_at',
} as const;

/** Key prefixes; each names one item type. */
export const KeyPrefix = {
  message: 'MSG#',
  groupSummary: 'GRP#',
  group: 'GROUP#',
  pair: 'PAIR#',
  idempotency: 'IDEMPOTENCY#',
  connection: 'CONN#',
  userBySub: 'USERSUB#',
  userByHandle: 'USERHANDLE#',
  rateLimit: 'RATE#',
  receipt: 'RECEIPT#',
} as const;

export type TableKey = { pk: string; sk: string };

/** A participant as the items snapshot them (the original did the same). */
export interface Participant {
  user_uuid: string;
  display_name: string;
  handle: string;
}
