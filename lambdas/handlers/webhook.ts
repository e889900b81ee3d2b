/**
 * The HR webhook Lambda (API Gateway HTTP API, payload v2): wiring only. `/hr/<provider>` goes to the native HR
 * intake (usecases/hr-intake.ts), everything else to our signed route (usecases/webhook.ts).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { adapterForPath } from '../core/hr/registry.js';
import { processHrWebhook } from '../usecases/hr-intake.js';
import { processWebhook } from '../usecases/webhook.js';
import { lambdaHandler } from './middleware.js';
import { countWebhookFailure, decodeApiGatewayBody, getDefaultHrDeps, getDefaultWebhookDeps } from './wiring/intake.js';

export const handler = lambdaHandler(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const adapter = adapterForPath(event.rawPath ?? event.requestContext?.http?.path ?? '');
  const headers = event.headers ?? {};
  if (adapter) {
    const hr = await processHrWebhook(adapter, { method: event.requestContext?.http?.method ?? 'POST', headers, body: decodeApiGatewayBody(event) }, getDefaultHrDeps());
    return { statusCode: hr.status, headers: hr.headers, body: hr.body };
  }
  // A missing configuration is thrown, not answered: the invocation errors and the function's alarms fire.
  const response = await processWebhook({ headers, body: decodeApiGatewayBody(event) }, getDefaultWebhookDeps());
  if (response.status >= 500) countWebhookFailure();
  return { statusCode: response.status, headers: response.headers, body: response.body };
});
