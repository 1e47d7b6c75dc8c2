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
  /** Pushes received so far, over all listeners. */
  received(): number;
  close(): Promise<void>;
}

/** Opens one listener per user against the API at `apiUrl` (its WebSocket API is `/ws` on the same host). */
export async function openListeners(apiUrl: string, users: readonly SoakUser[]): Promise<Listeners> {
  const wsUrl = `${apiUrl.replace(/^http/, 'ws')}/ws`;
  const sockets: WebSocket[] = [];
  const logs: ListenerLog[] = [];
  const closed = new Set<string>();
  let ending = false;
  await Promise.all(
    users.map(async (user) => {
      const log: ListenerLog = { userUuid: user.uuid, handle: user.handle, pushes: [] };
      const socket = new WebSocket(`${wsUrl}?token=${encodeURIComponent(user.accessToken)}`);
      socket.on('message', (data) => {
        const push = JSON.parse(data.toString()) as { uuid: string; message_group_uuid: string };
        log.pushes.push({ uuid: push.uuid, groupUuid: push.message_group_uuid });
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
      logs.push(log);
    }),
  );
  return {
    logs,
    closedEarly: () => [...closed],
    received: () => logs.reduce((sum, log) => sum + log.pushes.length, 0),
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
