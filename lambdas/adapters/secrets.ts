import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ARIZE_API_KEY_PLACEHOLDER } from '../core/secret-placeholder.js';

export class SecretError extends Error {
  override readonly name = 'SecretError';
}

export interface ApiKeySource {
  apiKeySecretId?: string;
  apiKey?: string;
}

/**
 * The secret holds either the raw key or JSON `{"apiKey": "..."}`. Error messages name the secret,
 * never its value.
 */
export function parseApiKeySecret(secretId: string, value: string | undefined): string {
  const text = value?.trim();
  if (!text) throw new SecretError(`secret ${secretId} has no string value`);
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SecretError(`secret ${secretId} looks like JSON but does not parse`);
    }
    const apiKey = (parsed as { apiKey?: unknown }).apiKey;
    if (typeof apiKey !== 'string' || !apiKey.trim()) throw new SecretError(`secret ${secretId} JSON has no non-empty "apiKey" field`);
    return refusePlaceholder(secretId, apiKey.trim());
  }
  return refusePlaceholder(secretId, text);
}

function refusePlaceholder(secretId: string, apiKey: string): string {
  if (apiKey === ARIZE_API_KEY_PLACEHOLDER) {
    throw new SecretError(
      `secret ${secretId} still holds the placeholder written at deploy time: put the Arize API key into it (aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string <key>)`,
    );
  }
  return apiKey;
}

/**
 * How long a secret value is reused before it is read again. A rotated Arize key or webhook secret reaches every warm
 * container within this time, without a cold start; shorter would add a Secrets Manager call to most invocations.
 */
export const SECRET_MAX_AGE_SECONDS = 300;

import type { SecretSource } from '../usecases/ports.js';

export type { SecretSource };

/**
 * Secrets Manager through Powertools Parameters: values cached per container for `maxAgeSeconds`, a failed read
 * not cached (so a transient error does not stick), the client the caller built (traced) reused.
 */
export function secretsManagerSource(client: SecretsManagerClient, maxAgeSeconds = SECRET_MAX_AGE_SECONDS): SecretSource {
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  return {
    async read(secretId) {
      const value = await provider.get(secretId, { maxAge: maxAgeSeconds });
      return typeof value === 'string' ? value : undefined;
    },
  };
}

/** The Arize key: from its secret when an id is configured (re-read after SECRET_MAX_AGE_SECONDS), else given. */
export async function loadArizeApiKey(source: ApiKeySource, secrets: SecretSource): Promise<string> {
  if (source.apiKeySecretId) return parseApiKeySecret(source.apiKeySecretId, await secrets.read(source.apiKeySecretId));
  if (source.apiKey) return source.apiKey;
  throw new SecretError('no Arize API key: set ARIZE_API_KEY_SECRET_ID (or ARIZE_API_KEY for local runs)');
}
