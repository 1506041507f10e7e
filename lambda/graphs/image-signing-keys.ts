import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

/** The image signing key could not be read, or is too short to be a key. */
export class ImageSigningKeyError extends Error {
  override readonly name = 'ImageSigningKeyError';
}

export interface ImageSigningKeysOptions {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  /** How long a read key is used before it is read again (a rotation is picked up after this). */
  readonly cacheMs: number;
  readonly now?: () => number;
}

const MIN_KEY_LENGTH = 32;

/**
 * The HMAC key for image links, from Secrets Manager, cached per container. Links are signed with the current
 * version (AWSCURRENT); the endpoint also accepts the previous one (AWSPREVIOUS), so that rotating the secret does
 * not break the links in open incidents at once.
 */
export class ImageSigningKeys {
  private cached: { keys: string[]; at: number } | undefined;
  private inflight: Promise<string[]> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ImageSigningKeysOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The key to sign new links with. */
  async current(signal?: AbortSignal): Promise<string> {
    const [key] = await this.all(signal);
    return key!;
  }

  /** The current key first, then the previous one if there is one. */
  async all(signal?: AbortSignal): Promise<readonly string[]> {
    if (this.cached && this.now() - this.cached.at < this.options.cacheMs) return this.cached.keys;
    this.inflight ??= this.read(signal).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async read(signal: AbortSignal | undefined): Promise<string[]> {
    const stage = async (VersionStage: string): Promise<string | undefined> => {
      try {
        const response = await this.options.client.send(
          new GetSecretValueCommand({ SecretId: this.options.secretId, VersionStage }),
          { abortSignal: signal },
        );
        return response.SecretString;
      } catch (error) {
        if (error instanceof ResourceNotFoundException && VersionStage === 'AWSPREVIOUS') return undefined;
        throw new ImageSigningKeyError(
          `Could not read the image signing key from secret "${this.options.secretId}" (${VersionStage}): ` +
            (error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
          { cause: error },
        );
      }
    };
    const [current, previous] = await Promise.all([stage('AWSCURRENT'), stage('AWSPREVIOUS')]);
    if (!current || current.length < MIN_KEY_LENGTH) {
      throw new ImageSigningKeyError(
        `Secret "${this.options.secretId}" does not hold an image signing key of at least ${MIN_KEY_LENGTH} characters.`,
      );
    }
    const keys =
      previous && previous.length >= MIN_KEY_LENGTH && previous !== current ? [current, previous] : [current];
    this.cached = { keys, at: this.now() };
    return keys;
  }
}
