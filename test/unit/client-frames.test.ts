/** What a client may send on its WebSocket: the typing frame, read strictly. No network. */
import { parseTypingFrame } from '../../functions/websocket/client-frames';

describe('parseTypingFrame', () => {
  const group = '43eb04ee-ff70-4871-b921-74effd954a83';

  it('takes {"action": "typing", "message_group_uuid"} with the uuid in any case', () => {
    expect(parseTypingFrame(JSON.stringify({ action: 'typing', message_group_uuid: group.toUpperCase() }))).toEqual({ messageGroupUuid: group });
  });

  it.each([
    ['not JSON', 'typing', 'A frame must be a JSON object'],
    ['an array', '[]', 'A frame must be a JSON object'],
    ['null', 'null', 'A frame must be a JSON object'],
    ['no body', undefined, 'A frame must be a JSON object'],
    ['another field', JSON.stringify({ action: 'typing', message_group_uuid: group, handle: 'someone' }), expect.stringContaining('A typing frame is')],
    ['a malformed uuid', JSON.stringify({ action: 'typing', message_group_uuid: 'x' }), 'message_group_uuid_invalid'],
    ['no uuid', JSON.stringify({ action: 'typing' }), 'message_group_uuid_invalid'],
    ['a number for the uuid', JSON.stringify({ action: 'typing', message_group_uuid: 7 }), 'message_group_uuid_invalid'],
  ])('refuses %s, saying why', (_case, body, problem) => {
    expect(parseTypingFrame(body)).toEqual({ problem });
  });
});
