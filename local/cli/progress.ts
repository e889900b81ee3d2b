/**
 * The one progress display of the CLI (`run`/`submit`/`redrive`/`approve`, `start`, `users delete`): a count of
 * units (emails, requests, users), the rate and an ETA, always on stderr so stdout stays data only.
 *
 * On a terminal it is one line redrawn in place; otherwise it is silent unless forced (`--progress`), and then
 * plain lines without control characters, so a log file or a test can read it.
 */
export type ProgressMode = 'auto' | 'on' | 'off';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressOptions {
  /** Shown first, e.g. "Offboarding" or "Deleting…". */
  label: string;
  /** Plural noun of what is counted: "emails", "requests". */
  unit: string;
  /** `auto` (default): only on a terminal. `on`: also plain lines elsewhere. `off`: never. */
  mode?: ProgressMode;
  stream?: ProgressStream;
  /** Extra text after the counts, e.g. a breakdown by result. */
  detail?: () => string;
}

export interface Progress {
  /** The absolute number of units done so far (never goes down on screen). */
  set(done: number): void;
  /** Erases the redrawn line (terminal) or prints the last count (plain lines). */
  finish(): void;
  /** Whether anything is shown at all: callers with a per-item log of their own use it on non-terminals. */
  readonly drawing: boolean;
}

/** `--progress` / `--no-progress` as commander leaves them: undefined when neither was given. */
export function progressMode(flag: boolean | undefined): ProgressMode {
  return flag === undefined ? 'auto' : flag ? 'on' : 'off';
}

/** 95 → "1m 35s"; under a minute "42s"; hours as "2h 05m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "3/10 emails [######......] 1.5 emails/s, ETA 5s" — rate and ETA once something is done. */
export function progressText(label: string, unit: string, done: number, total: number, elapsedSeconds: number, width = 24): string {
  const shown = Math.min(done, total);
  const filled = total === 0 ? width : Math.round((shown / total) * width);
  const rate = elapsedSeconds > 0 ? shown / elapsedSeconds : 0;
  const tail =
    shown >= total
      ? `, done in ${formatDuration(elapsedSeconds)}`
      : shown > 0 && rate > 0
        ? `, ETA ${formatDuration((total - shown) / rate)}`
        : '';
  const speed = shown > 0 && rate > 0 ? ` ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} ${unit}/s` : '';
  return `${label} ${shown}/${total} ${unit} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${speed}${tail}`;
}

const REDRAW_MS = 200;
/**
 * Plain lines: at most one per interval (the first change and the last count always). Progress moves per email,
 * so a line per change was 100,000 lines in the log of a 100,000-email `run`.
 */
export const PLAIN_LINE_INTERVAL_MS = 2_000;

export function createProgress(total: number, options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode ?? 'auto';
  const tty = stream.isTTY === true;
  const drawing = mode === 'on' || (mode === 'auto' && tty);
  const started = performance.now();
  let done = 0;
  let lastDrawn = 0;
  let lastPrinted = -1;
  const text = () => {
    const detail = options.detail?.() ?? '';
    return `${progressText(options.label, options.unit, done, total, (performance.now() - started) / 1000)}${detail ? ` (${detail})` : ''}`;
  };
  const draw = (force: boolean) => {
    if (!drawing) return;
    if (tty) {
      const now = performance.now();
      if (!force && now - lastDrawn < REDRAW_MS) return;
      lastDrawn = now;
      stream.write(`\r\x1b[2K${text()}`);
      return;
    }
    if (done === lastPrinted) return;
    const now = performance.now();
    if (!force && lastPrinted >= 0 && now - lastDrawn < PLAIN_LINE_INTERVAL_MS) return;
    lastDrawn = now;
    lastPrinted = done;
    stream.write(`${text()}\n`);
  };
  if (tty) draw(true);
  return {
    drawing,
    set(value) {
      done = Math.max(done, value);
      draw(false);
    },
    finish() {
      if (!drawing) return;
      if (tty) stream.write('\r\x1b[2K');
      else draw(true);
    },
  };
}
