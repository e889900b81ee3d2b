import { describe, expect, it, vi } from 'vitest';
import { createProgress, formatDuration, PLAIN_LINE_INTERVAL_MS, progressMode, progressText } from '../../local/cli/progress.js';

function stream(isTTY: boolean): { text: string; isTTY: boolean; write(chunk: string): boolean } {
  return { text: '', isTTY, write(chunk: string) { this.text += chunk; return true; } };
}

describe('the CLI progress display', () => {
  it('states count, unit, rate and ETA from the figures it is given', () => {
    expect(progressText('Offboarding', 'emails', 250, 1000, 10, 8)).toBe('Offboarding 250/1000 emails [##......] 25 emails/s, ETA 30s');
    expect(progressText('Offboarding', 'emails', 3, 10, 2, 10)).toBe('Offboarding 3/10 emails [###.......] 1.5 emails/s, ETA 5s');
    expect(progressText('Offboarding', 'emails', 0, 10, 2, 4)).toBe('Offboarding 0/10 emails [....]');
    expect(progressText('Deleting…', 'users', 5, 5, 95, 4)).toBe('Deleting… 5/5 users [####] 0.1 users/s, done in 1m 35s');
    expect(formatDuration(7530)).toBe('2h 05m');
  });

  it('redraws in place on a terminal, prints plain lines only when forced elsewhere, and nothing when off', () => {
    const tty = stream(true);
    const onTerminal = createProgress(2, { label: 'L', unit: 'emails', stream: tty });
    onTerminal.finish();
    expect(tty.text.startsWith('\r\x1b[2KL 0/2 emails')).toBe(true);
    expect(tty.text.endsWith('\r\x1b[2K')).toBe(true);

    const piped = stream(false);
    const auto = createProgress(2, { label: 'L', unit: 'emails', stream: piped });
    auto.set(1);
    auto.finish();
    expect(auto.drawing).toBe(false);
    expect(piped.text).toBe('');

    const forced = createProgress(2, { label: 'L', unit: 'emails', stream: piped, mode: progressMode(true) });
    forced.set(1);
    forced.set(1);
    forced.set(2);
    forced.finish();
    expect(piped.text.split('\n').filter(Boolean).map((line) => line.split(' [')[0])).toEqual(['L 1/2 emails', 'L 2/2 emails']);
    expect(piped.text).not.toContain('\x1b');

    const flood = stream(false);
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const perEmail = createProgress(1000, { label: 'L', unit: 'emails', stream: flood, mode: 'on' });
      for (let done = 1; done <= 500; done += 1) perEmail.set(done);
      vi.advanceTimersByTime(PLAIN_LINE_INTERVAL_MS);
      for (let done = 501; done <= 1000; done += 1) perEmail.set(done);
      perEmail.finish();
    } finally {
      vi.useRealTimers();
    }
    // The first change, the first after the interval, and the last count: not a line per email.
    expect(flood.text.split('\n').filter(Boolean).map((line) => line.split(' [')[0])).toEqual(['L 1/1000 emails', 'L 501/1000 emails', 'L 1000/1000 emails']);

    const off = stream(true);
    createProgress(2, { label: 'L', unit: 'emails', stream: off, mode: progressMode(false) }).set(2);
    expect(off.text).toBe('');
  });
});

describe('offboard start: one line per finished request', () => {
  it('counts a request when it ends, with its final state — not when its first outcomes are recorded', async () => {
    const { progressLine } = await import('../../local/cli/start-command.js');
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    try {
      const progress = progressLine(2);
      progress.event({ requestId: 'hr-1', kind: 'started' });
      progress.event({ requestId: 'hr-1', kind: 'outcomes', emails: 3 });
      expect(lines).toEqual([]);
      progress.event({ requestId: 'hr-1', kind: 'finished', status: 'HELD' });
      progress.event({ requestId: 'rejected-1', kind: 'rejected', status: 'invalid email' });
      expect(lines).toEqual(['[1/2] hr-1: HELD\n', '[2/2] rejected-1: REJECTED\n']);
    } finally {
      spy.mockRestore();
    }
  });
});
