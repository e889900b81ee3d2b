/**
 * Deel. Verified against Deel's "Get started with webhooks" (security section) and the Contract Terminated
 * event reference:
 * - `x-deel-signature` is the hex HMAC-SHA256 of the string `POST` followed by the raw body, keyed with the
 *   subscription's signing key (`x-deel-hmac-label` names the key). No signed timestamp header.
 * - Payload `{data: {meta: {event_type, tracking_id, organization_id, …}, resource: {id, completion_date, …}},
 *   timestamp}`; `contract.terminated` fires when a termination completes. `tracking_id` identifies the event.
 *   The worker's email is read from `GET /rest/v2/contracts/{id}` (bearer token) when the resource lacks it.
 */
import { bearerGet, hmacAuthentication, isRecord, path, text, usableEmail, type HrAdapter } from './types.js';

export const deel: HrAdapter = {
  provider: 'deel',
  bodyFormat: 'json',
  envPrefix: 'DEEL',
  authenticate: hmacAuthentication('x-deel-signature', 'sha256', 'hex', 'POST'),
  map(body) {
    if (!isRecord(body)) return { error: 'body: must be a JSON object' };
    const type = text(path(body, 'data', 'meta', 'event_type'));
    if (!type) return { error: 'data.meta.event_type: is required' };
    if (type !== 'contract.terminated') return [{ kind: 'ignore', reason: `event type ${type} is not about a termination` }];
    const resource = path(body, 'data', 'resource');
    const contractId = text(path(resource, 'id'));
    if (!contractId) return { error: 'data.resource.id: is required' };
    const effective = text(path(resource, 'completion_date')) ?? text(path(resource, 'termination_date')) ?? text(path(resource, 'end_date'));
    const trackingId = text(path(body, 'data', 'meta', 'tracking_id'));
    const email = usableEmail(path(resource, 'worker', 'email')) ?? usableEmail(path(resource, 'worker_email'));
    return [
      {
        kind: 'termination',
        eventKey: trackingId ?? `${contractId}:${type}:${effective ?? 'undated'}`,
        eventType: type,
        subject: { employeeId: contractId, ...(email ? { email } : {}) },
        ...(effective ? { effective } : {}),
      },
    ];
  },
  lookup: {
    defaultBaseUrl: 'https://api.letsdeel.com',
    request: bearerGet((id) => `/rest/v2/contracts/${id}`),
    read(json) {
      return { email: usableEmail(path(json, 'data', 'worker', 'email')) };
    },
  },
};
