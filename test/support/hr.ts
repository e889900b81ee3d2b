/**
 * Test side of the native HR intake: fixtures, a sender that signs like each provider (written from the
 * providers' docs, independently of the adapters), and one local fake of the providers' people APIs over real
 * HTTP on 127.0.0.1 with knobs for failures.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { HrProvider } from '../../lambdas/core/hr/types.js';

const FIXTURES = new URL('../fixtures/hr/', import.meta.url);

export function hrFixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

export const HR_SECRETS: Record<HrProvider, string> = {
  bamboohr: 'bamboo_private_key_0123456789abcdef',
  hibob: 'hibob_webhook_secret_0123456789',
  gusto: '6d1b0c6e-94f1-4a58-bf7b-0b7f1e2c3d4a',
  deel: 'deel_signing_key_0123456789abcdef',
  personio: 'Bearer personio-webhook-token-0123456789',
  rippling: 'rippling-bearer-token-0123456789',
  okta: 'okta-event-hook-authorization-0123456789',
};

export const HR_CONTENT_TYPES: Record<HrProvider, string> = {
  bamboohr: 'application/json',
  hibob: 'application/json',
  gusto: 'application/json',
  deel: 'application/json',
  personio: 'application/json',
  rippling: 'application/x-www-form-urlencoded',
  okta: 'application/json',
};

/** The headers each provider sends with `body`, signed with `secret` at `nowSeconds` (BambooHR is the only one timed). */
export function providerHeaders(provider: HrProvider, secret: string, body: string, nowSeconds: number): Record<string, string> {
  const hmac = (algorithm: string, ...parts: string[]) => {
    const mac = createHmac(algorithm, secret);
    for (const part of parts) mac.update(part, 'utf8');
    return mac;
  };
  const headers: Record<string, string> = { 'content-type': HR_CONTENT_TYPES[provider] };
  switch (provider) {
    case 'bamboohr': {
      const timestamp = String(Math.floor(nowSeconds));
      headers['x-bamboohr-timestamp'] = timestamp;
      headers['x-bamboohr-signature'] = hmac('sha256', body, timestamp).digest('hex');
      break;
    }
    case 'hibob':
      headers['bob-signature'] = hmac('sha512', body).digest('base64');
      break;
    case 'gusto':
      headers['x-gusto-signature'] = hmac('sha256', body).digest('hex');
      break;
    case 'deel':
      headers['x-deel-signature'] = hmac('sha256', 'POST', body).digest('hex');
      headers['x-deel-hmac-label'] = 'offboarding';
      break;
    case 'personio':
      headers.authorization = secret;
      break;
    case 'rippling':
      headers.authorization = `Bearer ${secret}`;
      break;
    case 'okta':
      headers.authorization = secret;
      break;
  }
  return headers;
}

/** A terminating fixture per provider, and the person it is about in the fake APIs below. */
export const HR_TERMINATIONS: Record<HrProvider, { fixture: string; email: string }> = {
  bamboohr: { fixture: 'bamboohr-employee-updated-status.json', email: 'emma.johansson@example.com' },
  hibob: { fixture: 'hibob-employee-left.json', email: 'ravi.patel@example.com' },
  gusto: { fixture: 'gusto-employee-terminated.json', email: 'noah.wilson@example.com' },
  deel: { fixture: 'deel-contract-terminated.json', email: 'zara.ahmed@example.com' },
  personio: { fixture: 'personio-employment-terminated.json', email: 'ingrid.nilsen@example.com' },
  rippling: { fixture: 'rippling-employee-deleted.txt', email: 'grace.kim@example.com' },
  okta: { fixture: 'okta-user-deactivated.json', email: 'tom@example.com' },
};

export interface FakeHrApi {
  url: string;
  /** Base URL to configure for a provider (`OFFBOARDING_<P>_API_URL`). */
  baseUrl(provider: HrProvider): string;
  token(provider: HrProvider): string;
  /** Requests received, as `METHOD path`. */
  calls: string[];
  /** The next `times` calls for `provider` answer `status` (e.g. 503, 404) before the real answer. */
  failNext(provider: HrProvider, status: number, times: number, headers?: Record<string, string>): void;
  /** Removes a person: the API answers 404 for them. */
  forget(provider: HrProvider): void;
  close(): Promise<void>;
}

const TOKENS: Record<HrProvider, string> = {
  bamboohr: 'bamboo-api-key-0123456789',
  hibob: 'SERVICE-1234:hibob-service-token-0123',
  gusto: 'gusto-access-token-0123456789',
  deel: 'deel-api-token-0123456789',
  personio: 'personio-access-token-0123456789',
  rippling: 'rippling-api-token-0123456789',
  okta: 'unused',
};

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

/**
 * One server, one prefix per provider, each answering the lookup its docs describe, with that provider's auth:
 * BambooHR basic (API key as user), HiBob basic (service user), the others bearer.
 */
export async function startFakeHrApi(): Promise<FakeHrApi> {
  const calls: string[] = [];
  const failures = new Map<HrProvider, { status: number; times: number; headers: Record<string, string> }>();
  const forgotten = new Set<HrProvider>();
  const people: Record<Exclude<HrProvider, 'okta'>, { route: RegExp; method: string; body: () => unknown }> = {
    bamboohr: {
      method: 'GET',
      route: /^\/bamboohr\/api\/gateway\.php\/acme\/v1\/employees\/4101\?fields=workEmail,status,terminationDate$/,
      body: () => ({ id: '4101', workEmail: HR_TERMINATIONS.bamboohr.email, status: 'Inactive', terminationDate: '2026-11-30' }),
    },
    hibob: { method: 'POST', route: /^\/hibob\/v1\/people\/search$/, body: () => ({ employees: [{ id: '3332883884017713238', email: HR_TERMINATIONS.hibob.email }] }) },
    gusto: {
      method: 'GET',
      route: /^\/gusto\/v1\/employees\/bcfc9744-0ab3-4ef3-ab0d-e728255d659c$/,
      body: () => ({
        uuid: 'bcfc9744-0ab3-4ef3-ab0d-e728255d659c',
        email: 'noah.personal@example.net',
        work_email: HR_TERMINATIONS.gusto.email,
        terminated: true,
        terminations: [{ uuid: 'da441196-43a9-4d23-ad5d-f37ce6bb99c0', active: true, effective_date: '2026-11-30', run_termination_payroll: false }],
      }),
    },
    deel: { method: 'GET', route: /^\/deel\/rest\/v2\/contracts\/37nex2x$/, body: () => ({ data: { id: '37nex2x', worker: { email: HR_TERMINATIONS.deel.email } } }) },
    personio: { method: 'GET', route: /^\/personio\/v2\/persons\/91234$/, body: () => ({ id: '91234', email: HR_TERMINATIONS.personio.email }) },
    rippling: { method: 'GET', route: /^\/rippling\/platform\/api\/employees\/60a1f2e3d4c5b6a798877665$/, body: () => ({ id: '60a1f2e3d4c5b6a798877665', workEmail: HR_TERMINATIONS.rippling.email }) },
  };
  const expectedAuth = (provider: HrProvider) =>
    provider === 'bamboohr'
      ? `Basic ${Buffer.from(`${TOKENS.bamboohr}:x`).toString('base64')}`
      : provider === 'hibob'
        ? `Basic ${Buffer.from(TOKENS.hibob).toString('base64')}`
        : `Bearer ${TOKENS[provider]}`;

  const server: Server = createServer((request, response) => {
    void (async () => {
      await readBody(request);
      const url = request.url ?? '/';
      calls.push(`${request.method} ${url}`);
      const provider = url.split('/')[1] as Exclude<HrProvider, 'okta'>;
      const person = people[provider];
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      if (!person) return reply(404, { error: 'no such API' });
      if (request.headers.authorization !== expectedAuth(provider)) return reply(401, { error: 'unauthorized' });
      const failure = failures.get(provider);
      if (failure && failure.times > 0) {
        failure.times -= 1;
        return reply(failure.status, { error: 'injected' }, failure.headers);
      }
      if (request.method !== person.method || !person.route.test(url) || forgotten.has(provider)) return reply(404, { error: 'not found' });
      reply(200, person.body());
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    baseUrl: (provider) => (provider === 'bamboohr' ? `${url}/bamboohr/api/gateway.php/acme` : `${url}/${provider}`),
    token: (provider) => TOKENS[provider],
    failNext: (provider, status, times, headers = {}) => failures.set(provider, { status, times, headers }),
    forget: (provider) => forgotten.add(provider),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `expect.stringMatching` typed as the string it stands for, so object literals stay type-checked. */
export function matching(pattern: RegExp): string {
  return expect.stringMatching(pattern) as string;
}
