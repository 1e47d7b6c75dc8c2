/**
 * The one structured logger of every function (Powertools: JSON lines, level from
 * `POWERTOOLS_LOG_LEVEL`, the Lambda context's ids added per invocation).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from '../config/function-config';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME });
