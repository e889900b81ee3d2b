/**
 * The evidence Lambda (EventBridge Scheduler, daily): wiring only; the use case is usecases/evidence-publish.ts.
 * `{"day": "YYYY-MM-DD"}` as the event publishes that day instead (a missed run, by hand).
 */
import type { EvidencePublishResult } from '../usecases/evidence-publish.js';
import { lambdaHandler } from './middleware.js';
import { getDefaultEvidenceDeps, publishEvidence } from './wiring/evidence.js';

export { EvidenceChainBrokenError } from '../usecases/evidence-publish.js';
export { publishEvidence, type EvidencePublishDeps } from './wiring/evidence.js';

export const handler = lambdaHandler(async (event: unknown): Promise<EvidencePublishResult> => publishEvidence(getDefaultEvidenceDeps(), event));
