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

/** What `ws-typing` sends to the other member's connections: the sender is typing in that conversation. */
export interface TypingPush {
  type: 'typing';
  message_group_uuid: string;
  /** Who is typing. */
  handle: string;
}

/** The answer to a client frame that was refused, on the sender's own connection. */
export interface FrameRefusal {
  type: 'error';
  action: string;
  message: string;
}

/**
 * What the push function sends to both members' connections when one of them marks a
 * conversation read: the other sees how far they read, the reader's other tabs clear their badge.
 */
export interface ReadReceiptPush {
  type: 'read';
  message_group_uuid: string;
  /** The reader. */
  handle: string;
  /** The uuid of the newest message they read. */
  read_up_to: string;
  read_at: IsoTimestamp;
}
