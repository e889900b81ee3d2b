/**
 * Rippling (partner app webhooks). Verified against Rippling's partner webhook description (AsyncAPI):
 * - A form-encoded POST (`application/x-www-form-urlencoded`) with `event_name`, `company_id`,
 *   `company_primary_email` and the resource `id`; either unauthenticated or with a bearer token (we require
 *   the token). Events arrive about five minutes late and can arrive more than once.
 * - `EmployeeDeleted`: the employee's access to the app was removed (termination, access rule or admin), which
 *   is exactly when the Arize account must go. The email comes from `GET /platform/api/employees/{id}`.
 * - No event id: the key is (company, employee, event); a repeat maps onto the same request.
 */
import { bearerGet, isRecord, path, text, tokenAuthentication, usableEmail, type HrAdapter } from './types.js';

export const rippling: HrAdapter = {
  provider: 'rippling',
  bodyFormat: 'form',
  envPrefix: 'RIPPLING',
  authenticate: tokenAuthentication('authorization'),
  map(body) {
    if (!isRecord(body)) return { error: 'body: must be form fields' };
    const type = text(body.event_name);
    if (!type) return { error: 'event_name: is required' };
    if (type !== 'EmployeeDeleted') return [{ kind: 'ignore', reason: `event type ${type} is not about a termination` }];
    const employeeId = text(body.id) ?? text(body.employee_id);
    if (!employeeId) return { error: 'id: is required' };
    const company = text(body.company_id) ?? 'company';
    return [{ kind: 'termination', eventKey: `${company}-${employeeId}:${type}`, eventType: type, subject: { employeeId } }];
  },
  lookup: {
    defaultBaseUrl: 'https://api.rippling.com',
    request: bearerGet((id) => `/platform/api/employees/${id}`),
    read(json) {
      return { email: usableEmail(path(json, 'workEmail')) ?? usableEmail(path(json, 'work_email')) };
    },
  },
};
