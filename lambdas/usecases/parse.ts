import type { z } from 'zod';
import { describeZodError } from '../core/request.js';
import { WorkflowInputError } from './errors.js';

export function parseTaskInput<T extends z.ZodType>(schema: T, input: unknown, task: string): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new WorkflowInputError(`${task} input: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
