/**
 * The single-table model of direct messaging, one file per item type: table and index
 * names, key formats, item shapes and how items become API shapes. The infrastructure, the
 * schema-load script, the repository, the stream consumer and the tests all read it.
 */
export * from './table';
export * from './keys';
export * from './time';
export * from './message';
export * from './summary';
export * from './group';
export * from './pair';
export * from './idempotency';
export * from './connection';
export * from './directory';
export * from './rate-limit';
export * from './read-state';
