/** vitest global setup: the suites spawn dist/offboard.js, so it is rebuilt from the sources under test first. */
import { buildCli } from '../../scripts/build-cli.js';

export default async function setup(): Promise<void> {
  await buildCli({ quiet: true });
}
