/**
 * The webhook use case against a real local SQS (local-aws-sqs): what is answered, and what is (not) enqueued.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsRequestQueue, type RequestQueue } from '../../lambdas/adapters/queue.js';
import type { RequestState } from '../../lambdas/core/ledger.js';
import { requestDigest } from '../../lambdas/core/request.js';
import { signWebhook } from '../../lambdas/core/webhook.js';
import { decodeApiGatewayBody } from '../../lambdas/handlers/wiring/intake.js';
import { loadWebhookSecrets, processWebhook, type WebhookDeps } from '../../lambdas/usecases/webhook.js';
import { startSqs, type LocalSqs } from '../../local/engines/sqs.js';
import { freshQueues, receiveAllRequests } from '../support/sqs.js';

const SECRET = 'whsec_integration_0123456789';
const NOW = new Date('2030-06-01T12:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);

let sqs: LocalSqs;
let queueUrl: string;
const logLines: string[] = [];

function deps(queue: RequestQueue): WebhookDeps {
  const capture = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
    logLines.push(`${level} ${message} ${JSON.stringify(attributes ?? {})}`);
  };
  // An empty ledger: the conflicting-eventId answer is tested over HTTP through `offboard serve` (test/e2e/serve.test.ts).
  const ledger = { getRequestState: () => Promise.resolve(undefined) };
  return { secrets: () => Promise.resolve([SECRET]), queue, ledger, clock: () => NOW, log: { info: capture('info'), warn: capture('warn'), error: capture('error') } };
}

function signedRequest(body: string | Buffer, options: { contentType?: string; secret?: string; t?: number } = {}) {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return {
    headers: {
      'Content-Type': options.contentType ?? 'application/json',
      'X-Offboarding-Signature': signWebhook(options.secret ?? SECRET, bytes, options.t ?? NOW_S),
    },
    body: bytes,
  };
}

async function queueDepth(): Promise<number> {
  const { Attributes } = await sqs.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

const receiveAll = () => receiveAllRequests(sqs.client, queueUrl);

beforeAll(async () => {
  sqs = await startSqs();
}, 60_000);

afterAll(async () => {
  await sqs.close();
});

beforeEach(async () => {
  ({ queueUrl } = await freshQueues(sqs, 'webhook-intake'));
  logLines.length = 0;
});

describe('processWebhook with a real local SQS', () => {
  it('accepts a signed event: 202 {requestId, emails} and exactly one message with the request', async () => {
    const body = JSON.stringify({ eventId: 'evt-100', type: 'employee.terminated', emails: ['Ann@Example.com', 'bo@example.com', 'ann@example.com'] });
    const response = await processWebhook(signedRequest(body), deps(new SqsRequestQueue({ queueUrl, client: sqs.client })));
    expect(response.status).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ requestId: 'hr-evt-100', emails: 2, requestIds: ['hr-evt-100'] });
    expect(await receiveAll()).toEqual([
      { requestId: 'hr-evt-100', type: 'employee.terminated', emails: ['ann@example.com', 'bo@example.com'], source: 'webhook', dryRun: false },
    ]);
    expect(logLines.join('\n')).not.toMatch(/ann@example\.com|bo@example\.com/i);
  });

  it('a replayed eventId gets 202 again with the same request id (the execution name then de-duplicates)', async () => {
    const body = JSON.stringify({ eventId: 'evt-replay', type: 'employee.terminated', employee: { email: 'x@example.com' } });
    const queue = new SqsRequestQueue({ queueUrl, client: sqs.client });
    const first = await processWebhook(signedRequest(body, { t: NOW_S - 10 }), deps(queue));
    const replay = await processWebhook(signedRequest(body, { t: NOW_S }), deps(queue));
    expect([first.status, replay.status]).toEqual([202, 202]);
    const messages = await receiveAll();
    expect(messages.map((m) => m.requestId)).toEqual(['hr-evt-replay', 'hr-evt-replay']);
    expect(messages[0]).toEqual(messages[1]);
  });

  it('an eventId the ledger holds for other content answers 409 problem+json naming eventId and enqueues nothing', async () => {
    const queue = new SqsRequestQueue({ queueUrl, client: sqs.client });
    const known: RequestState = {
      requestId: 'hr-evt-known',
      status: 'COMPLETED',
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
      digest: requestDigest({ type: 'employee.terminated', emails: ['x@example.com'], dryRun: false }),
    };
    const withLedger = { ...deps(queue), ledger: { getRequestState: (id: string) => Promise.resolve(id === 'hr-evt-known' ? known : undefined) } };
    const other = await processWebhook(signedRequest(JSON.stringify({ eventId: 'evt-known', type: 'employee.terminated', emails: ['y@example.com'] })), withLedger);
    expect(other.status).toBe(409);
    expect(other.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(other.body)).toMatchObject({ status: 409, title: 'Conflict', eventId: 'evt-known', detail: expect.stringContaining("eventId 'evt-known'") as unknown });
    expect(await queueDepth()).toBe(0);
    const same = await processWebhook(signedRequest(JSON.stringify({ eventId: 'evt-known', type: 'employee.terminated', emails: ['X@example.com'], reason: 'again' })), withLedger);
    expect(same.status).toBe(202);
    expect(await queueDepth()).toBe(1);
  });

  it('splits 2,500 emails into three parts, all enqueued', async () => {
    const emails = Array.from({ length: 2500 }, (_, i) => `person${i}@example.com`);
    const response = await processWebhook(signedRequest(JSON.stringify({ eventId: 'bulk', type: 'employee.terminated', emails })), deps(new SqsRequestQueue({ queueUrl, client: sqs.client })));
    expect(response.status).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({ requestId: 'hr-bulk', emails: 2500, requestIds: ['hr-bulk.p1of3', 'hr-bulk.p2of3', 'hr-bulk.p3of3'] });
    const messages = await receiveAll();
    expect(messages.map((m) => m.requestId).sort()).toEqual(['hr-bulk.p1of3', 'hr-bulk.p2of3', 'hr-bulk.p3of3']);
    expect(new Set(messages.flatMap((m) => m.emails)).size).toBe(2500);
  });

  it('a signed event of 1,000 addresses of ~250 characters (under 256 KB) is accepted in parts that fit, never 503', async () => {
    const domain = `${'a'.repeat(58)}.${'b'.repeat(58)}.${'c'.repeat(58)}.example.com`;
    const emails = Array.from({ length: 1000 }, (_, i) => `${`user${i}`.padEnd(60, 'x')}@${domain}`);
    const body = JSON.stringify({ eventId: 'long', type: 'employee.terminated', emails });
    expect(Buffer.byteLength(body)).toBeGreaterThan(246_000);
    expect(Buffer.byteLength(body)).toBeLessThan(256 * 1024);
    const response = await processWebhook(signedRequest(body), deps(new SqsRequestQueue({ queueUrl, client: sqs.client })));
    expect(response.status).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({ requestId: 'hr-long', emails: 1000, requestIds: ['hr-long.p1of2', 'hr-long.p2of2'] });
    const messages = await receiveAll();
    expect(messages.map((m) => m.requestId).sort()).toEqual(['hr-long.p1of2', 'hr-long.p2of2']);
    expect(new Set(messages.flatMap((m) => m.emails)).size).toBe(1000);
  });

  it('answers 413 above 256 KB, 415 for a non-JSON type, 400 naming the field, 401 alike for every signature fault', async () => {
    const queue = new SqsRequestQueue({ queueUrl, client: sqs.client });
    const big = JSON.stringify({ eventId: 'e', type: 'employee.terminated', emails: ['a@b.co'], reason: 'x'.repeat(262_144) });
    const tooLarge = await processWebhook(signedRequest(big), deps(queue));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers['content-type']).toBe('application/problem+json');

    const valid = JSON.stringify({ eventId: 'e', type: 'employee.terminated', emails: ['a@b.co'] });
    expect((await processWebhook(signedRequest(valid, { contentType: 'text/plain' }), deps(queue))).status).toBe(415);

    const malformed = await processWebhook(signedRequest('{"eventId": '), deps(queue));
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body)).toMatchObject({ status: 400, detail: 'body: not valid UTF-8 JSON' });
    const schema = await processWebhook(signedRequest(JSON.stringify({ eventId: 'e', type: 'employee.terminated', emails: ['a@b.co', 'bad'] })), deps(queue));
    expect(JSON.parse(schema.body)).toMatchObject({ status: 400, detail: 'emails.1: not a valid email address' });

    const faults = [
      { headers: { 'content-type': 'application/json' }, body: Buffer.from(valid) },
      signedRequest(valid, { secret: 'wrong-secret-0123456789' }),
      signedRequest(valid, { t: NOW_S - 301 }),
      signedRequest(valid, { t: NOW_S + 301 }),
      { ...signedRequest(valid), body: Buffer.from(valid.replace('a@b.co', 'c@b.co')) },
      { headers: { 'content-type': 'application/json', 'x-offboarding-signature': 'garbage' }, body: Buffer.from(valid) },
    ];
    const bodies = new Set<string>();
    for (const request of faults) {
      const response = await processWebhook(request, deps(queue));
      expect(response.status).toBe(401);
      bodies.add(response.body);
    }
    expect(bodies.size).toBe(1);
    expect(await queueDepth()).toBe(0);
  });

  it('answers 503 and enqueues nothing when the queue refuses (retry is safe: ids are deterministic)', async () => {
    const missing = new SqsRequestQueue({ queueUrl: `${queueUrl}-missing`, client: sqs.client, maxAttempts: 2 });
    const response = await processWebhook(signedRequest(JSON.stringify({ eventId: 'e503', type: 'employee.terminated', emails: ['a@b.co'] })), deps(missing));
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('30');
    expect(await queueDepth()).toBe(0);
  });

  it('decodes base64 API Gateway bodies to the exact bytes that were signed', () => {
    const raw = Buffer.from('{"a":"\u00e9"}');
    expect(decodeApiGatewayBody({ body: raw.toString('base64'), isBase64Encoded: true })).toEqual(raw);
    expect(decodeApiGatewayBody({ body: '{"a":"\u00e9"}', isBase64Encoded: false })).toEqual(raw);
    expect(decodeApiGatewayBody({ body: undefined, isBase64Encoded: false }).byteLength).toBe(0);
  });

  it('refuses to run without a secret; reads OFFBOARDING_WEBHOOK_SECRET locally', async () => {
    await expect(loadWebhookSecrets({})).rejects.toThrow(/WEBHOOK_SECRET_ID .* OFFBOARDING_WEBHOOK_SECRET/);
    await expect(loadWebhookSecrets({ OFFBOARDING_WEBHOOK_SECRET: SECRET })).resolves.toEqual([SECRET]);
  });

  it('fuzz: 1,000 bodies and headers ⇒ never a 5xx, nothing enqueued unless signed and valid', async () => {
    const counted = { parts: 0 };
    const realQueue = new SqsRequestQueue({ queueUrl, client: sqs.client });
    const queue: RequestQueue = {
      async send(requests) {
        counted.parts += requests.length;
        await realQueue.send(requests);
      },
    };
    const validEvent = fc.record({
      eventId: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
      type: fc.constant('employee.terminated'),
      emails: fc.array(fc.emailAddress(), { minLength: 1, maxLength: 5 }),
    });
    const anyBody = fc.oneof(
      validEvent.map((e) => JSON.stringify(e)),
      validEvent.map((e) => JSON.stringify({ ...e, extra: true })),
      fc.json(),
      fc.string(),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
      fc.record({ eventId: fc.string(), type: fc.string(), employee: fc.record({ email: fc.string() }) }).map((e) => JSON.stringify(e)),
    );
    const signing = fc.oneof(
      fc.constant({ kind: 'good' as const }),
      fc.constant({ kind: 'none' as const }),
      fc.constant({ kind: 'wrong-secret' as const }),
      fc.integer({ min: 301, max: 100_000 }).map((skew) => ({ kind: 'stale' as const, skew })),
      fc.string({ maxLength: 200 }).map((raw) => ({ kind: 'raw' as const, raw })),
    );
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', '', 'application/xml');
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(anyBody, signing, contentType, async (body, sign, type) => {
        const bytes = Buffer.from(body);
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        if (sign.kind === 'good') headers['x-offboarding-signature'] = signWebhook(SECRET, bytes, NOW_S);
        if (sign.kind === 'wrong-secret') headers['x-offboarding-signature'] = signWebhook('not-the-secret-0123456', bytes, NOW_S);
        if (sign.kind === 'stale') headers['x-offboarding-signature'] = signWebhook(SECRET, bytes, NOW_S - sign.skew);
        if (sign.kind === 'raw') headers['x-offboarding-signature'] = sign.raw;
        const before = counted.parts;
        const response = await processWebhook({ headers, body: bytes }, deps(queue));
        expect(response.status).toBeLessThan(500);
        if (sign.kind !== 'good') expect(response.status).toBe(401);
        if (response.status === 202) {
          accepted += 1;
          expect(type.startsWith('application/json')).toBe(true);
          expect(counted.parts).toBeGreaterThan(before);
        } else {
          expect(counted.parts).toBe(before);
        }
      }),
      { numRuns: 1000, seed: 20_300_601 },
    );
    expect(accepted).toBeGreaterThan(0);
    expect(await queueDepth()).toBe(counted.parts);
  }, 240_000);
});
