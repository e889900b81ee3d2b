/**
 * Personio (API v2 webhooks). Verified against Personio's "Webhooks" reference and "Create new webhook":
 * - No HMAC: with `auth_type` TOKEN (the default) Personio sends the configured token, verbatim, in the
 *   `Authorization` header (any `Bearer ` prefix is part of what the operator typed).
 * - "Dataless" notifications `{company_id, event_name, occurred_at, payload, meta}`; `employment.terminated`
 *   is sent on the effective date. A person has exactly one employment, so the id in the payload leads to
 *   `GET /v2/persons/{id}` (bearer token) for the email. Personio retries 5xx (not 501) for up to 3 days.
 * - No event id: the key is (company, employment, event, day it occurred).
 */
import { bearerGet, isRecord, path, text, tokenAuthentication, usableEmail, type HrAdapter } from './types.js';

export const personio: HrAdapter = {
  provider: 'personio',
  bodyFormat: 'json',
  envPrefix: 'PERSONIO',
  authenticate: tokenAuthentication('authorization'),
  map(body) {
    if (!isRecord(body)) return { error: 'body: must be a JSON object' };
    const type = text(body.event_name);
    if (!type) return { error: 'event_name: is required' };
    if (type !== 'employment.terminated') return [{ kind: 'ignore', reason: `event type ${type} is not about a termination` }];
    const occurredAt = text(body.occurred_at);
    if (!occurredAt || Number.isNaN(Date.parse(occurredAt))) return { error: 'occurred_at: must be a date-time' };
    const employmentId = text(path(body, 'payload', 'id'));
    const personId = text(path(body, 'payload', 'person', 'id')) ?? text(path(body, 'payload', 'person_id')) ?? employmentId;
    if (!personId) return { error: 'payload.id: is required' };
    const company = text(body.company_id) ?? 'company';
    return [
      {
        kind: 'termination',
        eventKey: `${company}-${employmentId ?? personId}:${type}:${occurredAt.slice(0, 10)}`,
        eventType: type,
        subject: { employeeId: personId },
        effectiveDayOf: occurredAt,
      },
    ];
  },
  lookup: {
    defaultBaseUrl: 'https://api.personio.de',
    request: bearerGet((id) => `/v2/persons/${id}`),
    read(json) {
      return { email: usableEmail(path(json, 'email')) };
    },
  },
};
