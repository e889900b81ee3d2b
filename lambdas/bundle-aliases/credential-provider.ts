/**
 * The credential chain of the Lambda bundles only (lib/constructs/project-function.ts aliases
 * `@aws-sdk/credential-provider-node` to this module; the CLI and tests keep the SDK's full chain).
 *
 * The Lambda runtime hands a function its role's credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, and the SDK's default chain tries exactly that first and stops there. Its other links (SSO,
 * shared ini files, credential_process, web identity, container/instance metadata) can never answer in Lambda but
 * cost ≈ 90 KB of every bundle (their nested STS/SSO/sign-in clients), parsed at each cold start.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

type FromEnvInit = Parameters<typeof fromEnv>[0];

/** Same signature as the SDK's `defaultProvider`; a missing variable fails with the SDK's own CredentialsProviderError. */
export const defaultProvider = (init: FromEnvInit = {}) => fromEnv(init);
