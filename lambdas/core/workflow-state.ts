/**
 * The state machine's payloads, one schema per Task input/output. Handlers parse their input with
 * these (a malformed payload fails loudly, naming the field) and the CDK definition builds exactly
 * these shapes. Payloads carry ids, emails and counts only; details live in the ledger.
 */
import * as z from 'zod';
import { CustomRoleSchema, PredefinedRoleSchema } from '../arize/wire.js';
import { MAX_TARGET_ROLE_FIELD } from './planning.js';
import { OffboardingRequestSchema } from './request.js';

/** The role a target carries from resolution (planning.ts targetRole): Arize's shape, fields bounded. */
export const TargetRoleSchema = z.discriminatedUnion('type', [
  PredefinedRoleSchema,
  CustomRoleSchema.extend({ id: z.string().min(1).max(MAX_TARGET_ROLE_FIELD), name: z.string().min(1).max(MAX_TARGET_ROLE_FIELD).optional() }),
]);
export const DeleteTargetSchema = z.strictObject({ userId: z.string().min(1), email: z.string().min(3), role: TargetRoleSchema.optional() });
export const ChunkSchema = z.strictObject({ targets: z.array(DeleteTargetSchema).min(1) });

/** Validate output: the normalised request plus the schedule decision. */
export const ValidatedSchema = z.strictObject({
  request: OffboardingRequestSchema,
  schedule: z.strictObject({ shouldWait: z.boolean(), waitUntil: z.string() }),
});
export type ValidatedState = z.output<typeof ValidatedSchema>;

export const PlanStateSchema = z.strictObject({
  decision: z.enum(['DELETE', 'HELD', 'DRY_RUN', 'NONE', 'RETRY', 'DONE']),
  /** The delete attempt the chunks are for (1-based). */
  attempt: z.number().int().min(1),
  chunks: z.array(ChunkSchema),
  counts: z.strictObject({
    requested: z.number().int().min(0),
    targets: z.number().int().min(0),
    notFound: z.number().int().min(0),
    protected: z.number().int().min(0),
  }),
  waitSeconds: z.number().int().min(0),
  heldReason: z.string().optional(),
});
export type PlanState = z.output<typeof PlanStateSchema>;

/**
 * After resolution the state carries only a reference to the request: every email not in the plan's
 * chunks already has its outcome in the ledger, so the list itself need not travel any further.
 */
export const RequestRefSchema = z.strictObject({
  requestId: z.string().min(1),
  source: z.string(),
  dryRun: z.boolean(),
  emailCount: z.number().int().min(0),
});
export type RequestRef = z.output<typeof RequestRefSchema>;

/** ResolveEmails input: `{ request }` (the Validate output's request). Output: `{ request: RequestRef, plan }`. */
export const ResolveInputSchema = z.object({ request: OffboardingRequestSchema });
export const ResolveOutputSchema = z.strictObject({ request: RequestRefSchema, plan: PlanStateSchema });
export type ResolveOutput = z.output<typeof ResolveOutputSchema>;

/** DeleteChunk input: one Map item, built by the Map's ItemSelector. */
export const DeleteChunkInputSchema = z.strictObject({
  requestId: z.string().min(1),
  attempt: z.number().int().min(1),
  targets: z.array(DeleteTargetSchema).min(1),
});
export type DeleteChunkInput = z.output<typeof DeleteChunkInputSchema>;

export const ChunkResultSchema = z.strictObject({
  deleted: z.number().int().min(0),
  notFound: z.number().int().min(0),
  failed: z.number().int().min(0),
  /** Targets whose failure was retryable: the next attempt retries exactly these, by id. */
  retry: z.array(DeleteTargetSchema),
});
export type ChunkResult = z.output<typeof ChunkResultSchema>;

/** The Step Functions error object a Catch puts at its ResultPath. */
export const StepErrorSchema = z.object({ Error: z.string().optional(), Cause: z.string().optional() }).loose();
export type StepError = z.output<typeof StepErrorSchema>;

export const RecordInputSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('HELD'), request: RequestRefSchema, plan: PlanStateSchema }),
  z.object({ action: z.literal('DRY_RUN'), request: RequestRefSchema, plan: PlanStateSchema }),
  z.object({
    action: z.literal('CHUNK_FAILURE'),
    requestId: z.string().min(1),
    attempt: z.number().int().min(1),
    targets: z.array(DeleteTargetSchema),
    error: StepErrorSchema.optional(),
  }),
  /** Top-level Catch: `state` is whatever the failing state had as input (possibly not even a valid request). */
  z.object({ action: z.literal('FAILURE'), state: z.unknown(), error: StepErrorSchema.optional() }),
]);
export type RecordInput = z.output<typeof RecordInputSchema>;

export const PlanRetryInputSchema = z.object({
  request: RequestRefSchema,
  plan: PlanStateSchema,
  deleteResults: z.array(ChunkResultSchema),
});

export const SummarizeInputSchema = z.object({ requestId: z.string().min(1) });
export const SummaryOutputSchema = z.strictObject({
  requestId: z.string(),
  status: z.string(),
  counts: z.record(z.string(), z.number()),
});
export type SummaryOutput = z.output<typeof SummaryOutputSchema>;

/** Error names thrown by the tasks and matched by the state machine's Retry/Catch clauses. */
export const WORKFLOW_ERROR_NAMES = {
  invalidRequest: 'InvalidRequestError',
  workflowInput: 'WorkflowInputError',
  transientArize: 'TransientArizeError',
} as const;
