/**
 * Gusto. Verified against Gusto's "Webhooks" guide (Embedded Payroll / App Integrations):
 * - On subscription Gusto first POSTs `{"verification_token": "…"}` (unsigned; the token is the secret the
 *   operator then configures). Events carry `X-Gusto-Signature`: the hex HMAC-SHA256 of the raw body keyed with
 *   that verification token. No timestamp header; Gusto retries non-2xx up to 16 times with backoff, so a body
 *   timestamp must not be used to reject (a legitimate retry would look stale).
 * - Events: `{uuid, event_type, resource_type, resource_uuid, entity_type, entity_uuid, timestamp}`;
 *   `employee.terminated`, `employee.termination_cancelled`, `employee.rehired` among the Employee events.
 *   The uuid is the event id. The email and the termination's effective date come from
 *   `GET /v1/employees/{employee_uuid}` (bearer token).
 */
import { bearerGet, datePart, hmacAuthentication, isRecord, path, setupAnswer, text, usableEmail, type HrAdapter } from './types.js';

const TERMINATIONS = new Set(['employee.terminated', 'employee.termination_effective']);
const RESCINDS = new Set(['employee.termination_cancelled', 'employee.rehired']);

export const gusto: HrAdapter = {
  provider: 'gusto',
  bodyFormat: 'json',
  envPrefix: 'GUSTO',
  setupCall(raw) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return undefined;
    }
    if (isRecord(json) && Object.keys(json).length === 1 && typeof json.verification_token === 'string') {
      // The token is a secret: it is never logged or echoed; the operator reads it in Gusto's developer portal.
      return setupAnswer('gusto verification token received (not logged)');
    }
    return undefined;
  },
  authenticate: hmacAuthentication('x-gusto-signature', 'sha256', 'hex'),
  map(body) {
    if (!isRecord(body)) return { error: 'body: must be a JSON object' };
    const type = text(body.event_type);
    const uuid = text(body.uuid);
    const employeeId = text(body.entity_uuid);
    if (!type) return { error: 'event_type: is required' };
    const kind = TERMINATIONS.has(type) ? 'termination' : RESCINDS.has(type) ? 'rescind' : undefined;
    if (!kind) return [{ kind: 'ignore', reason: `event type ${type} is not about a termination` }];
    if (text(body.entity_type) !== 'Employee') return { error: 'entity_type: must be Employee for employee events' };
    if (!uuid) return { error: 'uuid: is required' };
    if (!employeeId) return { error: 'entity_uuid: is required' };
    return [{ kind, eventKey: uuid, eventType: type, subject: { employeeId } }];
  },
  lookup: {
    defaultBaseUrl: 'https://api.gusto.com',
    request: bearerGet((id) => `/v1/employees/${id}`),
    read(json) {
      const terminations = path(json, 'terminations');
      const list: unknown[] = Array.isArray(terminations) ? terminations : [];
      const active = list.find((t) => path(t, 'active') === true) ?? list[list.length - 1];
      const date = datePart(text(path(active, 'effective_date')));
      const terminated = path(json, 'terminated');
      return {
        // The work address is the Arize account; the personal one only when no work address is on file.
        email: usableEmail(path(json, 'work_email')) ?? usableEmail(path(json, 'email')),
        terminated: typeof terminated === 'boolean' ? terminated || date !== undefined : date !== undefined ? true : undefined,
        ...(date ? { terminationDate: date } : {}),
      };
    },
  },
};
