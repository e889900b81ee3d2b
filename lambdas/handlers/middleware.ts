/**
 * The one way a use case becomes a Lambda handler: Powertools' middy middlewares applied once, here, instead of a
 * try/finally in every handler file. Order (outermost first): the tracer's handler segment, the logger's Lambda
 * context (keys reset per invocation so one request's attributes never leak into the next), metrics published
 * after the invocation or its error.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from '../observability.js';

export function lambdaHandler<TEvent, TResult>(useCase: (event: TEvent, context: Context) => Promise<TResult>) {
  return (
    middy(useCase)
      // Responses carry emails (outcomes, summaries): never copied into trace metadata.
      .use(captureLambdaHandler(tracer, { captureResponse: false }))
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use(logMetrics(metrics))
  );
}
