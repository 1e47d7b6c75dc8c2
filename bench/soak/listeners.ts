/**
 * The soak's listeners: one WebSocket per simulated person, opened before the load and kept
 * open through it, as an app left open would be. What each receives is checked afterwards
 * (`checkPushes`): every new message of theirs, exactly once, and nothing else.
 */
import WebSocket from 'ws';
import type { ListenerLog } from './check';
import type { SoakUser } from './users';

export interface Listeners {
  logs: ListenerLog[];
  /** Listeners whose connection closed before the end (their pushes are not checked). */
  closedEarly(): string[];
  /** Frames received so far, over all listeners. */
  received(): number;
  /** Sends a typing frame on this user's listener (false when it is not open). */
  typing(userUuid: string, groupUuid: string): boolean;
  close(): Promise<void>;
}

/** Opens one listener per user against the API at `apiUrl` (its WebSocket API is `/ws` on the same host). */
export async function openListeners(apiUrl: string, users: readonly SoakUser[]): Promise<Listeners> {
  const wsUrl = `${apiUrl.replace(/^http/, 'ws')}/ws`;
  const sockets: WebSocket[] = [];
  const byUser = new Map<string, WebSocket>();
  const logs: ListenerLog[] = [];
  const closed = new Set<string>();
  let ending = false;
  await Promise.all(
    users.map(async (user) => {
      const log: ListenerLog = { userUuid: user.uuid, handle: user.handle, pushes: [], receipts: [], typing: [] };
      const socket = new WebSocket(`${wsUrl}?token=${encodeURIComponent(user.accessToken)}`);
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type?: string; uuid: string; message_group_uuid: string; handle: string };
        if (frame.type === 'read') log.receipts.push({ handle: frame.handle, groupUuid: frame.message_group_uuid });
        else if (frame.type === 'typing') log.typing.push({ handle: frame.handle, groupUuid: frame.message_group_uuid });
        else log.pushes.push({ uuid: frame.uuid, groupUuid: frame.message_group_uuid });
      });
      socket.on('close', () => {
        if (!ending) closed.add(user.handle);
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('unexpected-response', (_request, response) =>
          reject(new Error(`the WebSocket API refused @${user.handle}'s listener with ${response.statusCode}`)),
        );
        socket.once('error', reject);
      });
      sockets.push(socket);
      byUser.set(user.uuid, socket);
      logs.push(log);
    }),
  );
  return {
    logs,
    closedEarly: () => [...closed],
    received: () => logs.reduce((sum, log) => sum + log.pushes.length + log.receipts.length + log.typing.length, 0),
    typing(userUuid, groupUuid) {
      const socket = byUser.get(userUuid);
      if (socket?.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify({ action: 'typing', message_group_uuid: groupUuid }));
      return true;
    },
    async close() {
      ending = true;
      await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.readyState === WebSocket.CLOSED) return resolve();
              socket.once('close', () => resolve());
              socket.close(1000);
              setTimeout(() => {
                socket.terminate();
                resolve();
              }, 2000).unref();
            }),
        ),
      );
    },
  };
}
