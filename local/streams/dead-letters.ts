/**
 * The local event source mapping's dead letters: `.data/stream-<function>.dead-letters.jsonl`,
 * one JSON object a line, written by the consumer (./consumer.ts) for records it gave up on,
 * each with the record as Lambda delivered it; a line without a record reports records trimmed
 * from the stream before they were read. Read by the soak's checker and by `npm run redrive`,
 * which removes the lines it replayed.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { DynamoDBRecord } from 'aws-lambda';

export interface DeadLetter {
  reason: string;
  /** Absent for `records-trimmed` reports: there was no record to keep. */
  record?: DynamoDBRecord;
  deadLetteredAt?: string;
  shardId?: string;
}

/** The file's lines, each with its parsed dead letter (none when the file does not exist). */
export function readDeadLetterLines(file: string): { line: string; letter: DeadLetter }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => ({ line, letter: JSON.parse(line) as DeadLetter }));
}

/** The stream consumer's dead letters (none when the file does not exist). */
export function readDeadLetters(file: string): DeadLetter[] {
  return readDeadLetterLines(file).map(({ letter }) => letter);
}

/**
 * Removes these lines from the file as it is now (the consumer may have appended since they
 * were read), replacing the file in one rename.
 */
export function removeDeadLetterLines(file: string, lines: ReadonlySet<string>): void {
  if (lines.size === 0 || !existsSync(file)) return;
  const kept = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !lines.has(line));
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, kept.length === 0 ? '' : `${kept.join('\n')}\n`);
  renameSync(temporary, file);
}
