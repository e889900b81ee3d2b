/**
 * The connection settings of config.ts (ARIZE_SSL_CA_CERT, ARIZE_REQUEST_VERIFY, ARIZE_PROXY_URL/HTTPS_PROXY)
 * made real. Node's built-in fetch takes neither a CA nor a proxy without the `undici` package (not a
 * dependency here), so when one of them is set the client gets a fetch-compatible function built on
 * node:http/node:https: a keep-alive https.Agent carrying the CA (or not verifying), and for a proxy an HTTP
 * CONNECT tunnel per request (https targets) or an absolute-URI request to the proxy (http targets).
 * Without those settings the platform fetch is used unchanged.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import type { ArizeEndpoint } from './config.js';

type FetchLike = typeof fetch;

/** A fetch for the endpoint's TLS/proxy settings, or undefined when the platform fetch serves as is. */
export function connectionFetch(endpoint: ArizeEndpoint): FetchLike | undefined {
  if (endpoint.caCert === undefined && endpoint.verifyTls && endpoint.proxyUrl === undefined) return undefined;
  const tls = { ...(endpoint.caCert !== undefined ? { ca: endpoint.caCert } : {}), rejectUnauthorized: endpoint.verifyTls };
  const agent = new HttpsAgent({ ...tls, keepAlive: true });
  const proxy = endpoint.proxyUrl !== undefined ? new URL(endpoint.proxyUrl) : undefined;
  const fetchImpl = (input: Parameters<FetchLike>[0], init: RequestInit = {}): Promise<Response> => {
    const target = new URL(input instanceof Request ? input.url : String(input));
    return send(target, init, { agent, tls, ...(proxy ? { proxy } : {}) });
  };
  return fetchImpl;
}

interface Route {
  agent: HttpsAgent;
  tls: { ca?: string; rejectUnauthorized: boolean };
  proxy?: URL;
}

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  new Headers(headers).forEach((value, name) => (record[name] = value));
  return record;
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (proxy.username === '') return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

function defaultPort(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

function send(target: URL, init: RequestInit, route: Route): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  const method = init.method ?? 'GET';
  const headers = headerRecord(init.headers);
  const body = typeof init.body === 'string' ? init.body : undefined;
  if (init.body !== undefined && init.body !== null && body === undefined) return Promise.reject(new TypeError('only string bodies are supported'));

  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onResponse = (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        if (settled) return;
        settled = true;
        const status = response.statusCode ?? 502;
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const payload = [204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
        resolve(new Response(payload, { status, statusText: response.statusMessage ?? '', headers: responseHeaders }));
      });
    };
    const issue = (options: RequestOptions, secure: boolean) => {
      const request = (secure ? httpsRequest : httpRequest)(options, onResponse);
      request.on('error', fail);
      signal?.addEventListener('abort', () => {
        fail(signal.reason);
        request.destroy();
      }, { once: true });
      request.end(body);
    };
    const path = `${target.pathname}${target.search}`;
    const proxy = route.proxy;
    if (proxy === undefined) {
      issue({ protocol: target.protocol, hostname: target.hostname, port: defaultPort(target), path, method, headers, ...(target.protocol === 'https:' ? { agent: route.agent } : {}) }, target.protocol === 'https:');
      return;
    }
    if (target.protocol === 'http:') {
      // A plain-http target: the proxy takes the absolute URI.
      issue({ hostname: proxy.hostname, port: defaultPort(proxy), path: target.href, method, headers: { ...headers, host: target.host, ...proxyAuthorization(proxy) } }, false);
      return;
    }
    const connect = httpRequest({
      hostname: proxy.hostname,
      port: defaultPort(proxy),
      method: 'CONNECT',
      path: `${target.hostname}:${defaultPort(target)}`,
      headers: { host: `${target.hostname}:${defaultPort(target)}`, ...proxyAuthorization(proxy) },
    });
    connect.on('error', fail);
    signal?.addEventListener('abort', () => {
      fail(signal.reason);
      connect.destroy();
    }, { once: true });
    connect.on('connect', (answer: IncomingMessage, socket) => {
      if (answer.statusCode !== 200) {
        socket.destroy();
        fail(new Error(`proxy ${proxy.host} refused the tunnel to ${target.host}: HTTP ${answer.statusCode ?? '?'}`));
        return;
      }
      const secureSocket = tlsConnect({ socket, servername: target.hostname, ...route.tls });
      secureSocket.on('error', fail);
      issue({ hostname: target.hostname, port: defaultPort(target), path, method, headers, createConnection: () => secureSocket }, false);
    });
    connect.end();
  });
}
