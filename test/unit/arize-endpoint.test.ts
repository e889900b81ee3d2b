/** The one Arize settings module (lambdas/arize/config.ts): the SDK's variables, their precedence, and every refusal. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArizeConfigError, describeEndpoint, resolveEndpoint } from '../../lambdas/arize/index.js';

const resolve = (env: Record<string, string>) => resolveEndpoint({}, env);
const refusal = (env: Record<string, string>) => {
  try {
    resolve(env);
  } catch (error) {
    if (error instanceof ArizeConfigError) return { message: error.message, variable: error.variable };
    throw error;
  }
  return undefined;
};

describe('resolveEndpoint', () => {
  it.each([
    [{}, 'https://api.arize.com', 'default'],
    [{ ARIZE_REGION: 'eu-west-1a' }, 'https://api.eu-west-1a.arize.com', 'ARIZE_REGION'],
    [{ ARIZE_REGION: 'CA-CENTRAL-1A' }, 'https://api.ca-central-1a.arize.com', 'ARIZE_REGION'],
    [{ ARIZE_BASE_DOMAIN: 'corp.arize.example' }, 'https://api.corp.arize.example', 'ARIZE_BASE_DOMAIN'],
    [{ ARIZE_SINGLE_HOST: 'arize.internal', ARIZE_SINGLE_PORT: '8443' }, 'https://arize.internal:8443', 'ARIZE_SINGLE_HOST'],
    [{ ARIZE_SINGLE_PORT: '8443' }, 'https://api.arize.com:8443', 'default'],
    [{ ARIZE_SINGLE_HOST: 'arize.internal', ARIZE_SINGLE_PORT: '8443', ARIZE_API_PORT: '9000' }, 'https://arize.internal:9000', 'ARIZE_SINGLE_HOST'],
    [{ ARIZE_API_HOST: 'sandbox.test', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: '8080' }, 'http://sandbox.test:8080', 'ARIZE_API_HOST'],
    [{ ARIZE_API_HOST: 'sandbox.test', ARIZE_API_PORT: '0' }, 'https://sandbox.test', 'ARIZE_API_HOST'],
    [{ ARIZE_REGION: 'us-east-1b', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: '0' }, 'http://api.us-east-1b.arize.com', 'ARIZE_REGION'],
  ])('%j ⇒ %s (from %s)', (env, baseUrl, source) => {
    expect(resolve(env)).toMatchObject({ baseUrl, source, verifyTls: true });
  });

  it.each([
    [{ ARIZE_REGION: 'mars-1a' }, 'ARIZE_REGION', /must be one of us-east-1b, us-central-1a, eu-west-1a, ca-central-1a/],
    [{ ARIZE_REGION: 'eu-west-1a', ARIZE_BASE_DOMAIN: 'x.example' }, 'ARIZE_BASE_DOMAIN', /only one of ARIZE_REGION, ARIZE_SINGLE_HOST\/ARIZE_SINGLE_PORT or ARIZE_BASE_DOMAIN/],
    [{ ARIZE_SINGLE_HOST: 'h', ARIZE_REGION: 'eu-west-1a' }, 'ARIZE_SINGLE_HOST/ARIZE_SINGLE_PORT', /only one of/],
    [{ ARIZE_REGION: 'eu-west-1a', ARIZE_API_HOST: 'api.arize.com' }, 'ARIZE_API_HOST', /ARIZE_API_HOST and ARIZE_REGION both choose the Arize host/],
    [{ ARIZE_SINGLE_HOST: 'h', ARIZE_API_HOST: 'g' }, 'ARIZE_API_HOST', /both choose the Arize host/],
    [{ ARIZE_API_PORT: '70000' }, 'ARIZE_API_PORT', /between 0 and 65535/],
    [{ ARIZE_SINGLE_PORT: 'x' }, 'ARIZE_SINGLE_PORT', /between 0 and 65535/],
    [{ ARIZE_API_HOST: 'https://api.arize.com' }, 'ARIZE_API_HOST', /ARIZE_API_HOST must be a host name/],
    [{ ARIZE_REQUEST_VERIFY: 'maybe' }, 'ARIZE_REQUEST_VERIFY', /true or false/],
    [{ ARIZE_API_SCHEME: 'http', ARIZE_API_HOST: 'h', ARIZE_REQUEST_VERIFY: 'false' }, 'ARIZE_REQUEST_VERIFY', /plain http/],
    [{ ARIZE_SSL_CA_CERT: '/nonexistent/ca.pem' }, 'ARIZE_SSL_CA_CERT', /cannot read "\/nonexistent\/ca.pem" \(ENOENT\)/],
    [{ ARIZE_PROXY_URL: 'socks5://proxy:1080' }, 'ARIZE_PROXY_URL', /only http:\/\/ proxies/],
    [{ HTTPS_PROXY: 'not a url' }, 'HTTPS_PROXY', /not a valid proxy URL/],
  ])('%j is refused naming %s', (env, variable, message) => {
    const problem = refusal(env);
    expect(problem?.variable).toBe(variable);
    expect(problem?.message).toMatch(message);
  });

  it('reads a CA bundle, refuses a file without a certificate or next to ARIZE_REQUEST_VERIFY=false', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arize-ca-'));
    const pem = join(dir, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'hello');
    expect(resolve({ ARIZE_SSL_CA_CERT: pem })).toMatchObject({ caCertPath: pem, verifyTls: true });
    expect(refusal({ ARIZE_SSL_CA_CERT: junk })?.message).toContain('holds no PEM certificate');
    expect(refusal({ ARIZE_SSL_CA_CERT: pem, ARIZE_REQUEST_VERIFY: 'false' })?.message).toContain('contradict');
    expect(describeEndpoint(resolve({ ARIZE_SSL_CA_CERT: pem }))).toBe(`arize: https://api.arize.com (from default), trusting ${pem} (ARIZE_SSL_CA_CERT)`);
  });

  it('takes ARIZE_PROXY_URL, else HTTPS_PROXY unless NO_PROXY covers the host', () => {
    expect(resolve({ ARIZE_PROXY_URL: 'http://p:3128', HTTPS_PROXY: 'http://other:1' })).toMatchObject({ proxyUrl: 'http://p:3128/', proxySource: 'ARIZE_PROXY_URL' });
    expect(resolve({ HTTPS_PROXY: 'http://p:3128' })).toMatchObject({ proxyUrl: 'http://p:3128/', proxySource: 'HTTPS_PROXY' });
    expect(resolve({ HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'localhost,.arize.com' }).proxyUrl).toBeUndefined();
    expect(resolve({ ARIZE_PROXY_URL: 'http://p:3128', NO_PROXY: '*' }).proxyUrl).toBe('http://p:3128/');
  });

  it('describes the endpoint in one line, naming the source', () => {
    expect(describeEndpoint(resolve({ ARIZE_REGION: 'eu-west-1a' }))).toBe('arize: https://api.eu-west-1a.arize.com (from ARIZE_REGION)');
    expect(describeEndpoint(resolve({ ARIZE_REQUEST_VERIFY: 'false', HTTPS_PROXY: 'http://user:secret@p:3128' }))).toBe(
      'arize: https://api.arize.com (from default), via proxy p:3128 (HTTPS_PROXY), TLS CERTIFICATES NOT VERIFIED (ARIZE_REQUEST_VERIFY=false)',
    );
  });

  it('an explicit baseUrl option wins (tests, sandboxes) and still takes the TLS/proxy settings', () => {
    expect(resolveEndpoint({ baseUrl: 'http://127.0.0.1:9/' }, { ARIZE_REGION: 'eu-west-1a' })).toMatchObject({ baseUrl: 'http://127.0.0.1:9', source: 'option baseUrl' });
  });
});
