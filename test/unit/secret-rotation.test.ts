/**
 * Secrets are read through Powertools Parameters with a maxAge: a rotated Arize key or webhook secret reaches a
 * warm container after that age, without a cold start, and a failed read is not cached. Real waits (1 s maxAge).
 */
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { loadArizeApiKey, secretsManagerSource } from '../../lambdas/adapters/secrets.js';
import { loadWebhookSecrets } from '../../lambdas/usecases/webhook.js';

const secretsManager = mockClient(SecretsManagerClient);

afterEach(() => {
  secretsManager.reset();
});

function holds(values: Record<string, string>) {
  secretsManager.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => ({ SecretString: values[input.SecretId] }));
}

describe('secrets with a maxAge', () => {
  it('keep a value for maxAge, then pick up the rotated Arize key without a new container', async () => {
    const values = { 'arize/key': 'key-before-rotation' };
    holds(values);
    const source = secretsManagerSource(new SecretsManagerClient({ region: 'us-east-1' }), 1);
    await expect(loadArizeApiKey({ apiKeySecretId: 'arize/key' }, source)).resolves.toBe('key-before-rotation');
    values['arize/key'] = JSON.stringify({ apiKey: 'key-after-rotation' });
    await expect(loadArizeApiKey({ apiKeySecretId: 'arize/key' }, source)).resolves.toBe('key-before-rotation');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    await sleep(1_100);
    await expect(loadArizeApiKey({ apiKeySecretId: 'arize/key' }, source)).resolves.toBe('key-after-rotation');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('pick up a rotated webhook secret list (old and new accepted while rotating)', async () => {
    const values = { 'webhook/secret': 'whsec_old_0123456789abcdef' };
    holds(values);
    const source = secretsManagerSource(new SecretsManagerClient({ region: 'us-east-1' }), 1);
    const env = { WEBHOOK_SECRET_ID: 'webhook/secret' };
    await expect(loadWebhookSecrets(env, source)).resolves.toEqual(['whsec_old_0123456789abcdef']);
    values['webhook/secret'] = JSON.stringify(['whsec_new_0123456789abcdef', 'whsec_old_0123456789abcdef']);
    await sleep(1_100);
    await expect(loadWebhookSecrets(env, source)).resolves.toEqual(['whsec_new_0123456789abcdef', 'whsec_old_0123456789abcdef']);
  });

  it('do not cache a failed read: the next invocation reads again', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'not yet', $metadata: {} }))
      .resolves({ SecretString: 'key-now-present' });
    const source = secretsManagerSource(new SecretsManagerClient({ region: 'us-east-1' }));
    await expect(loadArizeApiKey({ apiKeySecretId: 'arize/key' }, source)).rejects.toThrow();
    await expect(loadArizeApiKey({ apiKeySecretId: 'arize/key' }, source)).resolves.toBe('key-now-present');
  });
});
