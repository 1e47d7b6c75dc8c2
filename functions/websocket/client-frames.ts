/** Reading what a client sends on its WebSocket: the frames a route accepts (docs/websocket.md). */
import { parseMessageGroupUuid } from '../domain/validation';
import { TYPING_ACTION } from '../catalog';

/** The group a typing frame names, or what is wrong with the frame (said back to the sender). */
export function parseTypingFrame(body: string | undefined | null): { messageGroupUuid: string } | { problem: string } {
  let frame: unknown;
  try {
    frame = JSON.parse(body ?? '');
  } catch {
    return { problem: 'A frame must be a JSON object' };
  }
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) return { problem: 'A frame must be a JSON object' };
  const { action, message_group_uuid: group, ...rest } = frame as Record<string, unknown>;
  if (action !== TYPING_ACTION || Object.keys(rest).length > 0)
    return { problem: `A typing frame is {"action": "${TYPING_ACTION}", "message_group_uuid": "…"}` };
  try {
    return { messageGroupUuid: parseMessageGroupUuid(typeof group === 'string' ? group : undefined) };
  } catch {
    return { problem: 'message_group_uuid_invalid' };
  }
}
