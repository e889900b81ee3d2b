/** Which Arize a pipeline command (run, submit, serve, audit, …) talks to: decided once, by lambdas/arize/config.ts. */
import { ArizeConfigError, describeEndpoint, resolveEndpoint } from '../../lambdas/arize/index.js';
import type { LocalArizeOption } from '../runtime/index.js';
import { CliError, EXIT_USAGE } from './errors.js';

/**
 * ARIZE_API_KEY set ⇒ the real API, wherever the one settings module (lambdas/arize/config.ts) says it is
 * (ARIZE_REGION, ARIZE_BASE_DOMAIN, ARIZE_SINGLE_HOST/PORT, ARIZE_API_HOST/SCHEME/PORT, proxy, CA);
 * otherwise the demo sandbox. A bad or contradictory setting is a usage error (exit 2) before anything runs.
 */
export function arizeOptionFromEnvironment(env: NodeJS.ProcessEnv): LocalArizeOption {
  const apiKey = (env.ARIZE_API_KEY ?? '').trim();
  if (apiKey === '') return { mode: 'sandbox' };
  try {
    return { mode: 'external', apiKey, endpoint: resolveEndpoint({}, env) };
  } catch (error) {
    if (error instanceof ArizeConfigError) throw new CliError(`Arize configuration: ${error.message}`, EXIT_USAGE);
    throw error;
  }
}

/** The once-per-command stderr line naming the Arize the command will touch. */
export function announceArize(option: LocalArizeOption, log: (line: string) => void): void {
  if (option.mode === 'external' && option.endpoint !== undefined) log(describeEndpoint(option.endpoint));
}

