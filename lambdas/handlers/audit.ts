/** The audit Lambda (EventBridge Scheduler): wiring only; the use case is `runAudit` (usecases/audit.ts). */
import { runAudit } from '../usecases/audit.js';
import { lambdaHandler } from './middleware.js';
import { getDefaultAuditWiring } from './wiring/audit.js';

/** Returns a summary only: the full report (personal data) is in S3, not in the invocation result. */
export const handler = lambdaHandler(async (): Promise<{ auditId: string; redriven: number; driftDetected: number; locations: string[] }> => {
  const { deps, policy } = getDefaultAuditWiring();
  const report = await runAudit(deps, policy);
  return { auditId: report.auditId, redriven: report.redrive.items.length, driftDetected: report.drift.findings.length, locations: report.locations };
});
