import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
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

let cachedKey: Promise<string> | undefined;

/**
 * Read once per container: the promise is cached, and dropped again on failure so a transient
 * Secrets Manager error does not poison the container.
 */
export function loadArizeApiKey(source: ApiKeySource, client?: SecretsManagerClient): Promise<string> {
  cachedKey ??= readApiKey(source, client).catch((error: unknown) => {
    cachedKey = undefined;
    throw error;
  });
  return cachedKey;
}

async function readApiKey(source: ApiKeySource, client?: SecretsManagerClient): Promise<string> {
  if (source.apiKeySecretId) {
    const secrets = client ?? new SecretsManagerClient({});
    const result = await secrets.send(new GetSecretValueCommand({ SecretId: source.apiKeySecretId }));
    return parseApiKeySecret(source.apiKeySecretId, result.SecretString);
  }
  if (source.apiKey) return source.apiKey;
  throw new SecretError('no Arize API key: set ARIZE_API_KEY_SECRET_ID (or ARIZE_API_KEY for local runs)');
}

/** Tests only: forget the cached key. */
export function resetApiKeyCache(): void {
  cachedKey = undefined;
}
