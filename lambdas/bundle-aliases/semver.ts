/**
 * `semver` as the Lambda bundles need it (lib/constructs/project-function.ts aliases the package to this module).
 * Its only callers there are aws-xray-sdk-core's SDK v2 patcher and cls-hooked's Node version switch, both
 * through Powertools Tracer, and both call `gte` alone; the full package is ≈ 29 KB of every bundle.
 */

interface Version {
  core: [number, number, number];
  prerelease: boolean;
}

function parse(version: string): Version {
  const match = /^\s*[v=]?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?\s*$/.exec(version);
  if (!match) throw new TypeError(`Invalid Version: ${version}`);
  return { core: [Number(match[1]), Number(match[2]), Number(match[3])], prerelease: match[4] !== undefined };
}

/**
 * a ≥ b by major.minor.patch; on an equal core a prerelease is the lower one. Prereleases of the same core are not
 * ordered among themselves (treated as equal): no caller compares two of them.
 */
export function gte(a: string, b: string): boolean {
  const left = parse(a);
  const right = parse(b);
  for (let i = 0; i < 3; i += 1) {
    if (left.core[i] !== right.core[i]) return left.core[i]! > right.core[i]!;
  }
  return !left.prerelease || right.prerelease;
}

export default { gte };
