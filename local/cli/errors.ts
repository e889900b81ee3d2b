/** Exit codes shared by every `offboard` command. */
export const EXIT_OK = 0;
/** Some items failed (e.g. a delete that did not succeed). */
export const EXIT_PARTIAL_FAILURE = 1;
/** Usage or configuration error: nothing was attempted. */
export const EXIT_USAGE = 2;

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
