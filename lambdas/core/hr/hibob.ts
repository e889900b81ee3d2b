/**
 * HiBob (webhooks v2). Verified against HiBob's "Working with webhooks" and the v2 event reference pages:
 * - `Bob-Signature` is the base64 HMAC-SHA512 of the raw body keyed with the webhook's secret (no timestamp is
 *   sent, so there is no staleness check; replays are harmless because keys are deterministic).
 * - Connection test: a POST of `Ping test` (or `{"text":"Ping test"}`) that must be answered 2xx.
 * - v2 payloads are thin: `{companyId, type, triggeredBy, triggeredAt, version, data: {employeeId, …}}`;
 *   HiBob recommends fetching details from its API (`POST /v1/people/search`, service-user basic auth).
 * - `employee.left` (terminated or garden leave) fires at midnight site time on the effective date;
 *   `employee.deleted` carries the work email; `employee.access.revoked.immediately` means now.
 */
import { hmacAuthentication, isRecord, path, setupAnswer, text, usableEmail, type HrAdapter, type HrEvent } from './types.js';

const PING = 'Ping test';

export const hibob: HrAdapter = {
  provider: 'hibob',
  bodyFormat: 'json',
  envPrefix: 'HIBOB',
  setupCall(raw) {
    const trimmed = raw.trim();
    if (trimmed === PING || trimmed.replace(/\s+/g, '') === JSON.stringify({ text: PING }).replace(/\s+/g, '')) {
      return setupAnswer('hibob connection test');
    }
    return undefined;
  },
  authenticate: hmacAuthentication('bob-signature', 'sha512', 'base64'),
  map(body) {
    if (!isRecord(body)) return { error: 'body: must be a JSON object' };
    const type = text(body.type);
    const employeeId = text(path(body, 'data', 'employeeId'));
    const companyId = text(body.companyId) ?? 'company';
    const triggeredAt = text(body.triggeredAt);
    if (!type) return { error: 'type: is required' };
    const key = (suffix: string) => `${companyId}-${employeeId}:${type}:${suffix}`;
    const needId = (): { error: string } | undefined => (employeeId ? undefined : { error: 'data.employeeId: is required' });
    switch (type) {
      case 'employee.left': {
        const missing = needId() ?? (triggeredAt ? undefined : { error: 'triggeredAt: is required' });
        if (missing) return missing;
        const event: HrEvent = { kind: 'termination', eventKey: key(triggeredAt!.slice(0, 10)), eventType: type, subject: { employeeId }, effectiveDayOf: triggeredAt };
        return [event];
      }
      case 'employee.access.revoked.immediately': {
        const missing = needId();
        if (missing) return missing;
        return [{ kind: 'termination', eventKey: key(triggeredAt?.slice(0, 10) ?? 'now'), eventType: type, subject: { employeeId } }];
      }
      case 'employee.deleted': {
        const email = usableEmail(path(body, 'data', 'email'));
        if (!email && !employeeId) return { error: 'data.email: is required' };
        return [{ kind: 'termination', eventKey: key(triggeredAt?.slice(0, 10) ?? 'deleted'), eventType: type, subject: { ...(email ? { email } : {}), ...(employeeId ? { employeeId } : {}) } }];
      }
      case 'employee.activated':
      case 'employee.joined': {
        const missing = needId();
        if (missing) return missing;
        return [{ kind: 'rescind', eventKey: key(triggeredAt?.slice(0, 10) ?? 'now'), eventType: type, subject: { employeeId } }];
      }
      case 'employee.inactivated':
        // Leave or termination: a termination also sends employee.left, which is the one acted on.
        return [{ kind: 'ignore', reason: 'employee.inactivated (leave or termination): acting on employee.left instead' }];
      default:
        return [{ kind: 'ignore', reason: `event type ${type} is not about a termination` }];
    }
  },
  lookup: {
    defaultBaseUrl: 'https://api.hibob.com',
    request(baseUrl, employeeId, token) {
      // Token is `<service user id>:<service user token>` (HiBob service users authenticate with basic auth).
      return {
        url: `${baseUrl.replace(/\/+$/, '')}/v1/people/search`,
        init: {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/json', authorization: `Basic ${Buffer.from(token).toString('base64')}` },
          body: JSON.stringify({ showInactive: true, fields: ['root.id', 'root.email'], filters: [{ fieldPath: 'root.id', operator: 'equals', values: [employeeId] }] }),
        },
      };
    },
    read(json) {
      const employees = path(json, 'employees');
      const first: unknown = Array.isArray(employees) ? employees[0] : undefined;
      return { email: usableEmail(path(first, 'email')) };
    },
  },
};
