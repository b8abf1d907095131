import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

const CACHE_MS = 5 * 60_000;

/**
 * The heartbeat signing keys: AWSCURRENT first (signs and verifies), then AWSPREVIOUS
 * (verifies only), so that rotating the secret never makes a valid beat look forged.
 */
export class SigningKeys {
  private cached: { keys: Buffer[]; atMs: number } | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly now: () => number,
  ) {}

  async all(): Promise<Buffer[]> {
    if (this.cached !== undefined && this.now() - this.cached.atMs < CACHE_MS) return this.cached.keys;
    const [current, previous] = await Promise.all([this.version('AWSCURRENT'), this.version('AWSPREVIOUS')]);
    if (current === undefined) throw new Error(`signing key ${this.secretId} has no AWSCURRENT version`);
    const keys = previous === undefined ? [current] : [current, previous];
    this.cached = { keys, atMs: this.now() };
    return keys;
  }

  async current(): Promise<Buffer> {
    const [current] = await this.all();
    return current as Buffer;
  }

  private async version(stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<Buffer | undefined> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId, VersionStage: stage }));
      return out.SecretString === undefined ? undefined : Buffer.from(out.SecretString, 'utf8');
    } catch (error) {
      if (error instanceof ResourceNotFoundException && stage === 'AWSPREVIOUS') return undefined;
      throw error;
    }
  }
}
