/**
 * The local functions' environment reaches a logger created before it: a benchmark or a test
 * that loaded a handler first used to keep Powertools' default INFO and print the functions'
 * INFO lines under npm start's WARN. And invocations that overlap in this one process each log
 * with their own Lambda context: a line used to carry the function name and request id of
 * whichever invocation had started last.
 */
import { FUNCTIONS } from '../../functions/catalog';
import { invokeFunction, lambdaContext, localFunctionEnvironment, prepareLocalFunctions } from '../../local/lambda';
import { logger, withInvocationContext } from '../../functions/observability/logger';

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

  it("sets AWS_LAMBDA_MAX_CONCURRENCY in this process only, never in the functions' environment a bundle of its own process gets", () => {
    // Powertools fails every log call where the variable is set and no runtime provides awslambda.InvokeStore.
    expect(localFunctionEnvironment(targets)).not.toHaveProperty('AWS_LAMBDA_MAX_CONCURRENCY');
    const restore = prepareLocalFunctions({ targets });
    try {
      expect(process.env.AWS_LAMBDA_MAX_CONCURRENCY).toMatch(/^\d+$/);
      expect(globalThis.awslambda?.InvokeStore).toBeDefined();
    } finally {
      restore();
    }
    expect(process.env.AWS_LAMBDA_MAX_CONCURRENCY).toBeUndefined();
  });

  it('keeps the Lambda context of invocations that overlap apart in their log lines', async () => {
    // Prepare: A logs only after B has started and logged.
    const restore = prepareLocalFunctions({ targets, logLevel: 'info' });
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const [a, b] = [FUNCTIONS[0]!, FUNCTIONS[1]!];
      const [contextA, contextB] = [lambdaContext(a), lambdaContext(b)];
      let bLogged = () => {};
      const afterB = new Promise<void>((resolve) => (bLogged = resolve));
      const handlerA = withInvocationContext(logger, async () => {
        await afterB;
        logger.info('line of A');
        return 'a';
      });
      const handlerB = withInvocationContext(logger, async () => {
        logger.info('line of B');
        bLogged();
        return 'b';
      });

      // Act
      await Promise.all([invokeFunction(a, handlerA, {}, contextA), invokeFunction(b, handlerB, {}, contextB)]);

      // Assess
      const lines = written
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const contextOf = (message: string) => {
        const line = lines.find((candidate) => candidate.message === message);
        return { function_name: line?.function_name, function_request_id: line?.function_request_id };
      };
      expect(contextOf('line of A')).toEqual({ function_name: contextA.functionName, function_request_id: contextA.awsRequestId });
      expect(contextOf('line of B')).toEqual({ function_name: contextB.functionName, function_request_id: contextB.awsRequestId });
    } finally {
      write.mockRestore();
      restore();
    }
  });
});
