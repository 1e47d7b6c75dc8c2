/** The local event source mapping's checkpoint file (local/streams/checkpoint-store.ts). */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCheckpointStore } from '../../local/streams/checkpoint-store';

describe('checkpoint store', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'cruddur-checkpoint-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has nothing before the first save, then gives back what was saved', () => {
    // Prepare
    const store = createCheckpointStore(path.join(dir, 'nested', 'checkpoint.json'), 'cruddur-messages');
    const checkpoint = { streamArn: 'arn:stream/1', shards: { 'shard-1': { sequenceNumber: '100' }, 'shard-0': { finished: true } } };

    // Act
    const before = store.load();
    store.save(checkpoint);

    // Assess: the file is written whole (no temporary file is left beside it).
    expect(before).toBeUndefined();
    expect(store.load()).toEqual(checkpoint);
    expect(readdirSync(path.join(dir, 'nested'))).toEqual(['checkpoint.json']);
  });

  it('says so and starts afresh when the file cannot be read, or is of another version', () => {
    // Prepare
    const file = path.join(dir, 'checkpoint.json');
    const unreadable: string[] = [];
    const store = createCheckpointStore(file, 'cruddur-messages', (name) => unreadable.push(name));

    // Act / Assess
    writeFileSync(file, '{ half a fi');
    expect(store.load()).toBeUndefined();
    expect(unreadable).toEqual([file]);
    writeFileSync(file, JSON.stringify({ version: 2, streamArn: 'arn', shards: {} }));
    expect(store.load()).toBeUndefined();
  });
});
