/** Small fetch helpers for the sandbox tests: real HTTP, and strict parsing of what comes back. */
import { afterEach, expect } from 'vitest';
import { z } from 'zod';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../local/sandbox/server.js';

/** Strict: a problem from the sandbox carries exactly these members. */
export const StrictProblemSchema = z.strictObject({
  title: z.string().min(1),
  status: z.number().int(),
  detail: z.string().min(1),
  instance: z.string(),
});

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function call(
  sandbox: Sandbox,
  method: string,
  path: string,
  init: { body?: unknown; rawBody?: string; contentType?: string | null; auth?: string | null } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  const auth = init.auth === undefined ? `Bearer ${sandbox.apiKey}` : init.auth;
  if (auth !== null) headers.authorization = auth;
  let body: string | undefined;
  if (init.rawBody !== undefined) body = init.rawBody;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  const contentType = init.contentType === undefined ? (body === undefined ? null : 'application/json') : init.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const response = await fetch(`${sandbox.url}${path}`, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Asserts an RFC 9457 problem with this status whose detail mentions `detailIncludes`. */
export function expectProblem(response: ApiResponse, status: number, detailIncludes?: string): void {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = StrictProblemSchema.parse(response.json);
  expect(problem.status).toBe(status);
  if (detailIncludes !== undefined) expect(problem.detail).toContain(detailIncludes);
}

export function usersPath(query: Record<string, string | string[] | number> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const search = params.toString();
  return `/v2/users${search.length > 0 ? `?${search}` : ''}`;
}

/**
 * Call at a test file's top level: returns a starter whose sandboxes are closed after each test,
 * so a failing assertion never leaks a listening server into the next test.
 */
export function sandboxesClosedAfterEach(): (options?: SandboxOptions) => Promise<Sandbox> {
  const running: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((sandbox) => sandbox.close()));
  });
  return async (options = {}) => {
    const sandbox = await startSandbox(options);
    running.push(sandbox);
    return sandbox;
  };
}
