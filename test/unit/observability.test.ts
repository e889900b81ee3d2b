import { describe, expect, it } from 'vitest';
import { LogItem } from '@aws-lambda-powertools/logger';
import { MaskingLogFormatter, maskEmailsDeep, maskEmailsInText } from '../../lambdas/observability.js';
import { parseApiKeySecret } from '../../lambdas/adapters/secrets.js';
import { ARIZE_API_KEY_PLACEHOLDER } from '../../lambdas/core/secret-placeholder.js';

describe('email masking in logs', () => {
  it('masks addresses inside free text and nested attributes', () => {
    expect(maskEmailsInText('deleting Ann.Smith@Example.com now')).toBe('deleting a***h@example.com now');
    expect(maskEmailsDeep({ emails: ['bob@example.com'], nested: { who: 'x carol@example.com' }, count: 2 })).toEqual({
      emails: ['b***b@example.com'],
      nested: { who: 'x c***l@example.com' },
      count: 2,
    });
  });

  it('the log formatter never emits a raw address, in the message or attributes', () => {
    const formatter = new MaskingLogFormatter();
    const item = formatter.formatAttributes(
      {
        logLevel: 'INFO',
        message: 'resolved dave@example.com',
        timestamp: new Date('2026-01-01T00:00:00Z'),
        serviceName: 'arize-offboarding',
        sampleRateValue: 0,
        awsRegion: 'us-east-1',
      },
      { email: 'erin@example.com', error: new Error('DELETE failed for frank@example.com') },
    );
    expect(item).toBeInstanceOf(LogItem);
    const printed = JSON.stringify(item.getAttributes());
    expect(printed).not.toMatch(/dave@|erin@|frank@/);
    expect(printed).toContain('d***e@example.com');
    expect(printed).toContain('f***k@example.com');
  });
});

describe('API key secret', () => {
  it('accepts the raw key or JSON {apiKey} and never echoes the value in errors', () => {
    expect(parseApiKeySecret('s', ' raw-key ')).toBe('raw-key');
    expect(parseApiKeySecret('s', '{"apiKey":"json-key"}')).toBe('json-key');
    expect(() => parseApiKeySecret('arize/key', '{"token":"sekrit"}')).toThrow(/arize\/key JSON has no non-empty "apiKey"/);
    expect(() => parseApiKeySecret('arize/key', '{"apiKey":')).toThrow(/^(?!.*apiKey":).*does not parse/);
    expect(() => parseApiKeySecret('arize/key', '')).toThrow(/no string value/);
  });

  it('refuses the placeholder a fresh deploy writes, telling the operator how to replace it', () => {
    expect(() => parseApiKeySecret('arize/key', ARIZE_API_KEY_PLACEHOLDER)).toThrow(/arize\/key still holds the placeholder.*put-secret-value/);
    expect(() => parseApiKeySecret('arize/key', JSON.stringify({ apiKey: ARIZE_API_KEY_PLACEHOLDER }))).toThrow(/placeholder/);
  });
});
