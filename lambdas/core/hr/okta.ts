/**
 * Okta Event Hooks. Verified against Okta's event hook documentation and guide:
 * - One-time verification: Okta sends a GET with `X-Okta-Verification-Challenge`; the answer is
 *   `{"verification": "<that value>"}` with 200.
 * - No HMAC: every delivery carries the header value configured on the hook (we use `Authorization`).
 * - Body `{eventType: "com.okta.event_hook", eventId, data: {events: [{uuid, published, eventType,
 *   target: [{type: "User", alternateId: <login/email>, …}]}]}}`: several System Log events per delivery, each
 *   with its own uuid, which is the key.
 * - `user.lifecycle.deactivate` and `user.lifecycle.delete.initiated` are leavers; `user.lifecycle.suspend` is
 *   temporary (leave, investigation) and is ignored on purpose: a suspended person comes back.
 */
import { header, isRecord, path, text, tokenAuthentication, usableEmail, type HrAdapter, type HrEvent } from './types.js';

const TERMINATIONS = new Set(['user.lifecycle.deactivate', 'user.lifecycle.delete.initiated']);
const RESCINDS = new Set(['user.lifecycle.activate', 'user.lifecycle.reactivate']);
/** A challenge is an opaque token: bounded and printable so echoing it cannot smuggle anything. */
const CHALLENGE = /^[A-Za-z0-9._~+/=-]{1,256}$/;

export const okta: HrAdapter = {
  provider: 'okta',
  bodyFormat: 'json',
  envPrefix: 'OKTA',
  challenge(request) {
    const value = header(request, 'x-okta-verification-challenge')?.trim();
    if (!value || !CHALLENGE.test(value)) return undefined;
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ verification: value }) };
  },
  authenticate: tokenAuthentication('authorization'),
  map(body) {
    if (!isRecord(body)) return { error: 'body: must be a JSON object' };
    const events = path(body, 'data', 'events');
    if (!Array.isArray(events)) return { error: 'data.events: must be an array' };
    const mapped: HrEvent[] = [];
    for (const [index, event] of events.entries()) {
      const type = text(path(event, 'eventType'));
      const uuid = text(path(event, 'uuid'));
      const kind = type && TERMINATIONS.has(type) ? 'termination' : type && RESCINDS.has(type) ? 'rescind' : undefined;
      if (!kind) {
        mapped.push({ kind: 'ignore', reason: `event ${index}: type ${type ?? '(none)'} is not about a termination` });
        continue;
      }
      if (!uuid) return { error: `data.events.${index}.uuid: is required` };
      const targets = path(event, 'target');
      const user: unknown = Array.isArray(targets) ? targets.find((t) => path(t, 'type') === 'User') : undefined;
      const email = usableEmail(path(user, 'alternateId'));
      if (!email) return { error: `data.events.${index}.target: a User target with an email alternateId is required` };
      mapped.push({ kind, eventKey: uuid, eventType: type!, subject: { email, ...(text(path(user, 'id')) ? { employeeId: text(path(user, 'id')) } : {}) } });
    }
    return mapped;
  },
};
