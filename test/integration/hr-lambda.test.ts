/**
 * The webhook Lambda dispatches `/hr/<provider>` to the native intake (same core as `offboard serve`), keeps
 * `/hr/events` on our own contract, and answers 404 for a provider that is not enabled.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../lambdas/handlers/webhook.js';
import { lambdaContext } from '../support/lambda-context.js';
import { HR_SECRETS, hrFixture, providerHeaders } from '../support/hr.js';

const saved = { ...process.env };

beforeAll(() => {
  process.env.INTAKE_QUEUE_URL = 'http://127.0.0.1:1/000000000000/never-used';
  process.env.LEDGER_TABLE_NAME = 'never-read-ledger';
  process.env.OFFBOARDING_WEBHOOK_SECRET = 'whsec_lambda_dispatch_0123456789';
  process.env.OFFBOARDING_OKTA_SECRET = HR_SECRETS.okta;
  delete process.env.OFFBOARDING_GUSTO_SECRET;
  delete process.env.HR_OKTA_SECRET_ID;
  delete process.env.HR_GUSTO_SECRET_ID;
});

afterAll(() => {
  process.env = saved;
});

function apiEvent(method: string, path: string, headers: Record<string, string>, body?: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    isBase64Encoded: false,
    ...(body === undefined ? {} : { body }),
    requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' } },
  } as APIGatewayProxyEventV2;
}

describe('webhook Lambda routing', () => {
  it('answers Okta\'s verification GET and acknowledges an authentic non-termination', async () => {
    const challenge = await handler(apiEvent('GET', '/hr/okta', { 'x-okta-verification-challenge': 'lambda-challenge-7' }), lambdaContext());
    expect(challenge).toMatchObject({ statusCode: 200, body: '{"verification":"lambda-challenge-7"}' });
    const body = JSON.stringify({ data: { events: [{ uuid: 'u-1', eventType: 'user.session.start', target: [] }] } });
    const ignored = await handler(apiEvent('POST', '/hr/okta', providerHeaders('okta', HR_SECRETS.okta, body, Date.now() / 1000), body), lambdaContext());
    expect(ignored.statusCode).toBe(200);
    expect(JSON.parse(ignored.body ?? '{}')).toMatchObject({ provider: 'okta', requestIds: [], ignored: [expect.any(String)] });
  });

  it('404 for a provider that is not enabled; 401 on our own route without our signature', async () => {
    const body = hrFixture('gusto-employee-terminated.json');
    const gusto = await handler(apiEvent('POST', '/hr/gusto', providerHeaders('gusto', HR_SECRETS.gusto, body, Date.now() / 1000), body), lambdaContext());
    expect(gusto.statusCode).toBe(404);
    const ours = await handler(apiEvent('POST', '/hr/events', { 'content-type': 'application/json' }, '{}'), lambdaContext());
    expect(ours.statusCode).toBe(401);
  });
});
