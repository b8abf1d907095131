import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

/** A command that talks to AWS could not: the one line an operator needs. */
export class AwsAccessError extends Error {
  override readonly name = 'AwsAccessError';
}

/** Turns "no credentials" and "not allowed" into one clear line; anything else goes through as it is. */
export function explainAwsError(error: unknown): never {
  const e = error as { name?: string; message?: string };
  if (e.name === 'CredentialsProviderError' || /Could not load credentials|credential/i.test(e.message ?? '')) {
    throw new AwsAccessError(
      'no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws sso login`; this command calls AWS',
    );
  }
  if (
    e.name === 'AccessDeniedException' ||
    e.name === 'AccessDenied' ||
    e.name === 'UnrecognizedClientException' ||
    e.name === 'ExpiredTokenException'
  ) {
    throw new AwsAccessError(`AWS refused the call (${e.name}): ${e.message ?? ''}`.trim());
  }
  if (
    e.name === 'TimeoutError' ||
    /ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|getaddrinfo/.test(e.message ?? '')
  ) {
    throw new AwsAccessError(
      `cannot reach AWS (${e.name ?? 'network error'}: ${(e.message ?? '').split('\n')[0]}): check the network, an HTTPS proxy (HTTPS_PROXY) and the region`,
    );
  }
  throw error;
}

/** The account the sites live in: from the configuration, else the caller's own. */
export async function accountOf(configured: string | undefined, region: string): Promise<string> {
  if (configured !== undefined) return configured;
  try {
    const me = await new STSClient({ region }).send(new GetCallerIdentityCommand({}));
    if (me.Account === undefined)
      throw new AwsAccessError(
        'STS did not say which account these credentials belong to; set mirrorbeat.account in cdk.json',
      );
    return me.Account;
  } catch (error) {
    return explainAwsError(error);
  }
}
