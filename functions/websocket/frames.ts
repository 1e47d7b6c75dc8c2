/**
 * The frames the WebSocket API sends to the apps (docs/websocket.md is the contract for
 * frontend authors): what a client receives on its connection.
 */
import type { IsoTimestamp } from '../data/model';

/** What the push function sends to each connection for a new message. */
export interface MessagePush {
  type: 'message';
  message_group_uuid: string;
  uuid: string;
  display_name: string;
  handle: string;
  message: string;
  created_at: IsoTimestamp;
}
