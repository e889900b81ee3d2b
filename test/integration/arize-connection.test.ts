/**
 * ARIZE_SSL_CA_CERT, ARIZE_REQUEST_VERIFY and ARIZE_PROXY_URL really change how the client connects: the sandbox
 * behind a TLS front with a self-signed certificate (made by openssl), and behind an HTTP CONNECT proxy.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArizeNetworkError, ArizeUsersClient } from '../../lambdas/arize/index.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/server.js';

let sandbox: Sandbox;
let tlsFront: Server;
let proxy: Server;
let dir: string;
const tunnels: string[] = [];
const sockets: { destroy(): void }[] = [];
const port = (server: Server) => (server.address() as AddressInfo).port;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: [{ email: 'owner@x.com' }, { email: 'ann@x.com' }] as never, apiKey: 'tls-key' });
  dir = mkdtempSync(join(tmpdir(), 'arize-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  // TLS in front of the sandbox: decrypt, forward over http.
  tlsFront = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (request, response) => {
    const forward = httpRequest({ host: '127.0.0.1', port: sandbox.port, path: request.url, method: request.method, headers: request.headers, agent: false }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    request.pipe(forward);
  });
  // A CONNECT proxy that records where it tunnels.
  proxy = createHttpServer((_request, response) => response.writeHead(405).end());
  proxy.on('connect', (request, client) => {
    tunnels.push(request.url ?? '');
    const [host, targetPort] = (request.url ?? '').split(':');
    sockets.push(client);
    const upstream = netConnect(Number(targetPort), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.push(upstream);
    upstream.on('error', () => client.destroy());
  });
  for (const server of [tlsFront, proxy]) server.on('connection', (socket) => sockets.push(socket));
  await Promise.all([tlsFront, proxy].map((server) => new Promise<void>((done) => server.listen(0, '127.0.0.1', done))));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(
    [tlsFront, proxy].map(
      (server) =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
    ),
  );
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string>) => ({ ARIZE_API_HOST: 'localhost', ARIZE_API_PORT: String(port(tlsFront)), ...extra });
const client = (extra: Record<string, string>) => new ArizeUsersClient({ apiKey: 'tls-key', env: env(extra), maxRetries: 0 });

describe('Arize connection settings', () => {
  it('a self-signed endpoint fails without ARIZE_SSL_CA_CERT and works with it', async () => {
    await expect(client({}).findByEmail('ann@x.com')).rejects.toBeInstanceOf(ArizeNetworkError);
    expect((await client({ ARIZE_SSL_CA_CERT: join(dir, 'cert.pem') }).findByEmail('ann@x.com'))?.email).toBe('ann@x.com');
  });

  it('ARIZE_REQUEST_VERIFY=false skips the certificate check', async () => {
    expect((await client({ ARIZE_REQUEST_VERIFY: 'false' }).findByEmail('ann@x.com'))?.email).toBe('ann@x.com');
  });

  it('ARIZE_PROXY_URL tunnels every call through the proxy (CONNECT), with the CA still applied', async () => {
    tunnels.length = 0;
    const viaProxy = client({ ARIZE_SSL_CA_CERT: join(dir, 'cert.pem'), ARIZE_PROXY_URL: `http://127.0.0.1:${port(proxy)}` });
    const results = await viaProxy.bulkDelete({ emails: ['ann@x.com'] });
    expect(results).toMatchObject([{ email: 'ann@x.com', status: 'deleted' }]);
    expect(tunnels.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tunnels)).toEqual(new Set([`localhost:${port(tlsFront)}`]));
    expect(sandbox.store.find('ann@x.com')?.deleted).toBe(true);
  });
});
