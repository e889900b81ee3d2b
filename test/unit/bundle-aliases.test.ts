/**
 * The modules the Lambda bundles use in place of a package (lib/constructs/project-function.ts) answer as the
 * package does for every call the bundled code makes.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultProvider } from '../../lambdas/bundle-aliases/credential-provider.js';
import { gte } from '../../lambdas/bundle-aliases/semver.js';

const realSemver = createRequire(import.meta.url)('semver') as { gte(a: string, b: string): boolean };

const part = fc.integer({ min: 0, max: 30 });
const version = fc
  .tuple(part, part, part, fc.option(fc.constantFrom('-beta', '-rc.1', '-0'), { nil: undefined }))
  .map(([major, minor, patch, pre]) => `${major}.${minor}.${patch}${pre ?? ''}`);

describe('semver alias', () => {
  it('gte agrees with semver on versions, prereleases against releases included', () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        fc.pre(!(a.includes('-') && b.includes('-')));
        expect(gte(a, b)).toBe(realSemver.gte(a, b));
      }),
      { numRuns: 2_000 },
    );
  });

  it('gte agrees on the calls the bundled code makes: Node version vs 8.0.0, SDK v2 version vs its minimum', () => {
    for (const [a, b] of [[process.versions.node, '8.0.0'], ['7.10.1', '8.0.0'], ['2.7.15', '2.7.15'], ['2.6.0', '2.7.15']] as const) {
      expect(gte(a, b)).toBe(realSemver.gte(a, b));
    }
  });

  it('refuses what is not a version, as semver does', () => {
    expect(() => gte('24', '8.0.0')).toThrow(TypeError);
    expect(() => realSemver.gte('24', '8.0.0')).toThrow(TypeError);
  });
});

describe('credential provider alias', () => {
  const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION'] as const;
  const withEnv = async <T>(values: Partial<Record<(typeof names)[number], string>>, run: () => Promise<T>): Promise<T> => {
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    for (const name of names) {
      if (values[name] === undefined) delete process.env[name];
      else process.env[name] = values[name];
    }
    try {
      return await run();
    } finally {
      for (const name of names) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  };

  it('returns the credentials the Lambda runtime puts in the environment', async () => {
    const credentials = await withEnv({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' }, () => defaultProvider({})());
    expect(credentials).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
  });

  it('fails with the SDK credentials error when the environment has none (no other source is tried)', async () => {
    await expect(withEnv({}, () => defaultProvider({})())).rejects.toMatchObject({ name: 'CredentialsProviderError' });
  });
});
