/**
 * The local functions' environment reaches a logger created before it: a benchmark or a test
 * that loaded a handler first used to keep Powertools' default INFO and print the functions'
 * INFO lines under npm start's WARN.
 */
import { prepareLocalFunctions } from '../../local/lambda';
import { logger } from '../../functions/observability/logger';

const targets = { dynamodbUrl: 'http://127.0.0.1:1', databaseUrl: 'postgres://u@127.0.0.1:1/db', tableName: 'cruddur-messages' };

describe('prepareLocalFunctions', () => {
  it("gives the functions' shared logger the level it applies, WARN by default", () => {
    const created = logger.getLevelName();
    const restore = prepareLocalFunctions({ targets });
    try {
      expect(logger.getLevelName()).toBe('WARN');
    } finally {
      restore();
    }
    const restoreDebug = prepareLocalFunctions({ targets, logLevel: 'debug' });
    try {
      expect(logger.getLevelName()).toBe('DEBUG');
    } finally {
      restoreDebug();
      logger.setLogLevel(created);
    }
  });

  it('leaves an invalid level to Powertools instead of failing the start', () => {
    const created = logger.getLevelName();
    const restore = prepareLocalFunctions({ targets, logLevel: 'loud' });
    restore();
    expect(logger.getLevelName()).toBe(created);
  });
});
