/**
 * What a record of the messages table's stream holds, read once for every consumer: a new
 * message (its group and item), or why the record is not one. Only INSERTs of message items
 * matter to the consumers: messages are immutable, and the other items (group, pair,
 * summary, connection) are written beside the messages they belong with.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { groupUuidOfMessageKey, isMessageItem, isReceiptItem, type MessageItem, type ReceiptItem } from './model';

export type SkipReason = 'not-an-insert' | 'no-new-image' | 'not-a-message' | 'malformed-image';

export type StreamRecordReading =
  | { kind: 'new-message'; sequenceNumber?: string; groupUuid: string; item: MessageItem }
  | { kind: 'skipped'; sequenceNumber?: string; eventName?: string; reason: SkipReason };

/** The item an INSERT record carries, or why there is none. */
function insertedItem(record: DynamoDBRecord): { item: Record<string, unknown> } | { reason: SkipReason } {
  if (record.eventName !== 'INSERT') return { reason: 'not-an-insert' };
  const image = record.dynamodb?.NewImage;
  if (image === undefined) return { reason: 'no-new-image' };
  try {
    // aws-lambda's AttributeValue and the SDK's describe the same JSON.
    return { item: unmarshall(image as Record<string, AttributeValue>) };
  } catch {
    return { reason: 'malformed-image' };
  }
}

/** The read receipt a record carries (a new `RECEIPT#` item), or undefined. */
export function readReceiptRecord(record: DynamoDBRecord): ReceiptItem | undefined {
  const inserted = insertedItem(record);
  return 'item' in inserted && isReceiptItem(inserted.item) ? inserted.item : undefined;
}

/** The new message a record carries, or why it carries none. */
export function readStreamRecord(record: DynamoDBRecord): StreamRecordReading {
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  const skipped = (reason: SkipReason): StreamRecordReading => ({ kind: 'skipped', sequenceNumber, eventName: record.eventName, reason });
  const inserted = insertedItem(record);
  if ('reason' in inserted) return skipped(inserted.reason);
  const { item } = inserted;
  const groupUuid = typeof item.pk === 'string' ? groupUuidOfMessageKey(item.pk) : undefined;
  if (groupUuid === undefined) return skipped('not-a-message');
  // A MSG# item without a message's fields can never be applied: a consumer skips it (and
  // logs it) rather than fail on it forever.
  if (!isMessageItem(item)) return skipped('malformed-image');
  return { kind: 'new-message', sequenceNumber, groupUuid, item };
}
