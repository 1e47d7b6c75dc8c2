/**
 * Where the local event source mapping remembers how far it got: per shard, the last
 * sequence number fully processed (and whether a closed shard is finished), for one stream
 * of one table, in a JSON file. Written after every batch, write-then-rename, so a crash
 * leaves the previous checkpoint and never half a file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface ShardCheckpoint {
  sequenceNumber?: string;
  finished?: boolean;
}

export interface Checkpoint {
  streamArn: string;
  shards: Record<string, ShardCheckpoint>;
}

interface CheckpointFile extends Checkpoint {
  version: 1;
  tableName: string;
}

export interface CheckpointStore {
  /** The saved checkpoint, or undefined when there is none (or it cannot be read: `onUnreadable` says so). */
  load(): Checkpoint | undefined;
  save(checkpoint: Checkpoint): void;
}

export function createCheckpointStore(file: string, tableName: string, onUnreadable: (file: string) => void = () => {}): CheckpointStore {
  return {
    load() {
      if (!existsSync(file)) return undefined;
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as CheckpointFile;
        return parsed.version === 1 && typeof parsed.shards === 'object' && typeof parsed.streamArn === 'string'
          ? { streamArn: parsed.streamArn, shards: parsed.shards }
          : undefined;
      } catch {
        onUnreadable(file);
        return undefined;
      }
    },
    save(checkpoint) {
      const content: CheckpointFile = { version: 1, tableName, ...checkpoint };
      mkdirSync(path.dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`);
      renameSync(temporary, file);
    },
  };
}
