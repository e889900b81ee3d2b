/** Exit codes shared by every `offboard` command. */
export const EXIT_OK = 0;
/** Some items failed (e.g. a delete that did not succeed). */
export const EXIT_PARTIAL_FAILURE = 1;
/** Usage or configuration error: nothing was attempted. */
export const EXIT_USAGE = 2;
/**
 * A change (create, update, resend, reset) was sent but its answer was lost: it may or may not
 * have happened. Scripts must check the state before repeating it.
 */
export const EXIT_OUTCOME_UNKNOWN = 3;

/** An error the CLI reports as one line on stderr and turns into an exit code, never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
