/**
 * BambooHR (event-based webhooks). Verified against BambooHR's "Webhooks" and "Event-Based Webhooks" pages:
 * - `X-BambooHR-Signature` is the hex HMAC-SHA256, keyed with the webhook's private key, of the raw body followed
 *   by the `X-BambooHR-Timestamp` value (order body‖timestamp, as BambooHR's PHP example and public verifiers do);
 *   deliveries older than 5 minutes are rejected, so a captured request cannot be replayed later.
 * - The JSON payload is `{type, timestamp, data: {companyId, employeeId, changedFields}}` with types
 *   `employee.created|updated|deleted`; it names the changed fields, not their values, so whether the change is a
 *   termination (and the work email) is read from the employees API: `GET …/v1/employees/{id}?fields=…` with
 *   the API key as basic-auth user.
 */
import { SIGNATURE_TOLERANCE_SECONDS, hmacMatchesAny } from '../webhook.js';
import { datePart, header, isRecord, path, text, usableEmail, type HrAdapter, type HrEvent } from './types.js';

/** Monitored fields whose change can mean a termination (API names and the UI's English names). */
const TERMINATION_FIELDS = new Set(['status', 'employmentstatus', 'employment status', 'terminationdate', 'termination date']);

function terminationDate(value: unknown): string | undefined {
  const date = typeof value === 'string' ? datePart(value) : undefined;
  return date && date !== '0000-00-00' ? date : undefined;
}

export const bamboohr: HrAdapter = {
  provider: 'bamboohr',
  bodyFormat: 'json',
  envPrefix: 'BAMBOOHR',
  authenticate(request, secrets, nowSeconds) {
    const signature = header(request, 'x-bamboohr-signature');
    const timestamp = header(request, 'x-bamboohr-timestamp')?.trim();
    if (!signature || !timestamp) return { ok: false, reason: 'missing' };
    if (!/^\d{1,13}$/.test(timestamp)) return { ok: false, reason: 'malformed' };
    // Seconds, or milliseconds when the value is that long.
    const seconds = timestamp.length > 11 ? Number(timestamp) / 1000 : Number(timestamp);
    if (Math.abs(nowSeconds - seconds) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: 'stale' };
    return hmacMatchesAny('sha256', 'hex', secrets, [request.body, timestamp], signature) ? { ok: true } : { ok: false, reason: 'mismatch' };
  },
  map(body) {
    if (!isRecord(body)) return { error: 'body: must be a JSON object' };
    const type = text(body.type);
    const employeeId = text(path(body, 'data', 'employeeId'));
    const companyId = text(path(body, 'data', 'companyId')) ?? 'company';
    if (!type) return { error: 'type: is required' };
    if (!employeeId) return { error: 'data.employeeId: is required' };
    const base = `${companyId}-${employeeId}:employee.terminated`;
    if (type === 'employee.updated') {
      const changed = path(body, 'data', 'changedFields');
      const fields = Array.isArray(changed) ? changed.filter((f): f is string => typeof f === 'string') : [];
      if (!fields.some((f) => TERMINATION_FIELDS.has(f.toLowerCase()))) {
        return [{ kind: 'ignore', reason: `employee.updated without a status or termination-date change (${fields.length} field(s))` }];
      }
      const event: HrEvent = {
        kind: 'termination',
        eventKey: base,
        eventType: type,
        subject: { employeeId, ...withEmail(path(body, 'data', 'fields')) },
        confirmWithLookup: true,
        keyWithTerminationDate: true,
      };
      return [event];
    }
    if (type === 'employee.deleted') {
      // The record is gone, so the lookup will fail and the rejection is recorded for a human: never silent.
      return [{ kind: 'termination', eventKey: `${base}:deleted`, eventType: type, subject: { employeeId } }];
    }
    return [{ kind: 'ignore', reason: `event type ${type} is not about a termination` }];
  },
  lookup: {
    request(baseUrl, employeeId, token) {
      return {
        url: `${baseUrl.replace(/\/+$/, '')}/v1/employees/${encodeURIComponent(employeeId)}?fields=workEmail,status,terminationDate`,
        init: { method: 'GET', headers: { accept: 'application/json', authorization: `Basic ${Buffer.from(`${token}:x`).toString('base64')}` } },
      };
    },
    read(json) {
      const status = text(path(json, 'status'))?.toLowerCase();
      const date = terminationDate(path(json, 'terminationDate'));
      // A future termination keeps the status Active until the day; the date alone says it is coming.
      const terminated = status === 'inactive' || date !== undefined ? true : status === 'active' ? false : undefined;
      return { email: usableEmail(path(json, 'workEmail')), terminated, ...(date ? { terminationDate: date } : {}) };
    },
  },
};

/** Field-based payloads may post the work email; used only when the lookup cannot run. */
function withEmail(fields: unknown): { email?: string } {
  if (!isRecord(fields)) return {};
  const email = usableEmail(fields.workEmail ?? fields['Work Email']);
  return email ? { email } : {};
}
