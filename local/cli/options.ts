/**
 * Option parsing shared by every `offboard` command. Commander parses each value with the parsers below (so a
 * bad value stops before anything runs, naming the option); each command then checks the whole options object
 * with its one zod schema (`parseOptions`), so what reaches the command is typed and nothing unexpected slips in.
 * Every problem is a usage error (exit 2) that names the option and says why.
 */
import * as z from 'zod';
import { parseRequest, RequestIdSchema, TERMINATION_TYPE } from '../../lambdas/core/request.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { DEFAULT_DATA_DIR } from '../runtime/runtime-file.js';
import { OUTPUT_FORMATS } from './output.js';

/** `dataDir` → `--data-dir`: how the operator typed it, for messages. */
export function optionName(key: PropertyKey): string {
  return `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** "invalid value for --timeout: expected a number; unknown option --bogus" — every problem, each naming its option. */
export function describeOptionsError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(optionName).join(', ')}`;
      const [key] = issue.path;
      return key === undefined ? issue.message : `invalid value for ${optionName(key)}: ${issue.message}`;
    })
    .join('; ');
}

/** A command's options object (as commander hands it over) through the command's schema; exit 2 naming the option. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new CliError(describeOptionsError(parsed.error), EXIT_USAGE);
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// Value parsers for commander (run while parsing argv)

/** Repeatable option whose values may also be comma-separated. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim()).filter((item) => item !== '')];
}

export function integerOption(flag: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new CliError(`invalid value for ${flag}: '${value}' (expected an integer from ${min} to ${max})`, EXIT_USAGE);
    }
    return parsed;
  };
}

export function positiveNumberOption(flag: string, max = Number.POSITIVE_INFINITY, unit = 'a number') {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0 || parsed > max) {
      const range = Number.isFinite(max) ? ` and at most ${max}` : '';
      throw new CliError(`invalid value for ${flag}: '${value}' (expected ${unit} greater than 0${range})`, EXIT_USAGE);
    }
    return parsed;
  };
}

/** Case-insensitive choice among upper-case values (the API's spelling). */
export function enumValue<T extends string>(flag: string, allowed: readonly T[], value: string): T {
  const upper = value.trim().toUpperCase();
  const match = allowed.find((candidate) => candidate === upper);
  if (match === undefined) {
    throw new CliError(`invalid value for ${flag}: '${value}' (expected one of ${allowed.map((a) => a.toLowerCase()).join(', ')}; any case)`, EXIT_USAGE);
  }
  return match;
}

export function validRequestId(flag: string, value: string): string {
  const parsed = RequestIdSchema.safeParse(value);
  if (!parsed.success) throw new CliError(`invalid value for ${flag}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, EXIT_USAGE);
  return parsed.data;
}

/** The request's own rule for `effectiveAt` (core/request.ts), checked on a probe request. */
export function validEffectiveAt(value: string): string {
  const probe = parseRequest({ requestId: 'probe', type: TERMINATION_TYPE, emails: ['probe@example.com'], effectiveAt: value });
  if (!probe.ok) throw new CliError(`invalid value for --effective-at: '${value}' (expected ISO-8601 with a time zone, e.g. 2025-07-01T17:00:00Z)`, EXIT_USAGE);
  return value;
}

/** `--since`: an ISO date/time, or a duration ago (30m, 24h, 7d). */
export function parseSince(value: string, now: Date = new Date()): string {
  const relative = /^(\d+)\s*([smhd])$/.exec(value.trim());
  if (relative) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(relative[1]) * unit).toISOString();
  }
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed) || !/^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
    throw new CliError(`invalid value for --since: '${value}' (expected an ISO date/time or a duration such as 30m, 24h, 7d)`, EXIT_USAGE);
  }
  return new Date(parsed).toISOString();
}

/** `--older-than`: 0, or a duration such as 30m, 24h, 7d; in minutes. */
export function parseOlderThan(value: string): number {
  const text = value.trim();
  if (/^0+$/.test(text)) return 0;
  const match = /^(\d+)\s*([smhd])$/.exec(text);
  if (match === null) throw new CliError(`invalid value for --older-than: '${value}' (expected 0 or a duration such as 30m, 24h, 7d)`, EXIT_USAGE);
  const minutesPerUnit = { s: 1 / 60, m: 1, h: 60, d: 1440 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * minutesPerUnit;
}

// ---------------------------------------------------------------------------------------------
// Schema parts: the option groups several commands share (ops-shared.ts adds the options to commander)

const nonEmpty = (flag: string) => z.string().trim().min(1, `${flag} must not be empty`);

/** `--data-dir`, `--stack`, `--region` (addTargetOptions). */
export const TARGET_OPTIONS = {
  dataDir: nonEmpty('--data-dir').default(DEFAULT_DATA_DIR),
  stack: nonEmpty('--stack').optional(),
  region: nonEmpty('--region').optional(),
};

/** The target options plus `--confirm`, `--no-wait`, `--timeout`, `--progress` (addDeleteOptions). */
export const DELETE_OPTIONS = {
  ...TARGET_OPTIONS,
  confirm: z.boolean().optional(),
  wait: z.boolean().default(true),
  timeout: z.number().positive('expected seconds greater than 0'),
  progress: z.boolean().optional(),
};

export const OUTPUT_OPTION = { output: z.enum(OUTPUT_FORMATS).default('table') };

/** `--request-id`, `--dry-run`, `--reason`, `--effective-at` of the commands that build requests. */
export const REQUEST_OPTIONS = {
  ...DELETE_OPTIONS,
  ...OUTPUT_OPTION,
  dryRun: z.boolean().optional(),
  reason: z.string().max(500, 'at most 500 characters').optional(),
  effectiveAt: z.string().optional(),
  requestId: RequestIdSchema.optional(),
};
