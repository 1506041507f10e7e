import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

import { RoutingKeyInvalidError, RoutingKeyUnavailableError } from '../shared/errors';

export { RoutingKeyInvalidError, RoutingKeyUnavailableError };

interface Cached {
  readonly key: string;
  readonly fetchedAt: number;
}

export interface RoutingKeysOptions {
  readonly client: SecretsManagerClient;
  /** Route name → Secrets Manager secret id (name or ARN). */
  readonly secretIds: Readonly<Record<string, string>>;
  /** How long a fetched key is used before it is read again (so a rotation is picked up). */
  readonly cacheMs: number;
  readonly now?: () => number;
  /** Told when a refresh failed and the cached key was used instead. */
  readonly onStaleKeyUsed?: (route: string, error: unknown) => void;
}

/**
 * Integration keys per route, read from Secrets Manager and cached per container. A failed refresh keeps using
 * the cached key, so a Secrets Manager outage does not stop paging once a key has been read.
 */
export class RoutingKeys {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly now: () => number;

  constructor(private readonly options: RoutingKeysOptions) {
    this.now = options.now ?? Date.now;
  }

  get routes(): readonly string[] {
    return Object.keys(this.options.secretIds);
  }

  has(route: string): boolean {
    return Object.hasOwn(this.options.secretIds, route);
  }

  async keyFor(route: string): Promise<string> {
    const secretId = this.options.secretIds[route];
    if (secretId === undefined) {
      throw new RoutingKeyInvalidError(
        `No secret is configured for route "${route}" (ROUTING_KEY_SECRETS has: ${this.routes.join(', ')}).`,
      );
    }
    const cached = this.cache.get(route);
    if (cached && this.now() - cached.fetchedAt < this.options.cacheMs) return cached.key;
    let pending = this.inflight.get(route);
    if (!pending) {
      pending = this.fetch(route, secretId, cached).finally(() => this.inflight.delete(route));
      this.inflight.set(route, pending);
    }
    return pending;
  }

  private async fetch(route: string, secretId: string, cached: Cached | undefined): Promise<string> {
    let secretString: string | undefined;
    try {
      const response = await this.options.client.send(new GetSecretValueCommand({ SecretId: secretId }));
      secretString = response.SecretString;
    } catch (error) {
      if (cached) {
        this.options.onStaleKeyUsed?.(route, error);
        return cached.key;
      }
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new RoutingKeyUnavailableError(
        `Could not read the integration key for route "${route}" from secret "${secretId}" (${reason}). ` +
          'Lambda will retry the event.',
        { cause: error },
      );
    }
    const key = secretString?.trim() ?? '';
    if (!/^[A-Za-z0-9]{32}$/.test(key)) {
      // A bad value written over a working key must not stop paging: keep the key that worked.
      if (cached) {
        this.options.onStaleKeyUsed?.(route, new Error(`secret "${secretId}" no longer holds a valid key`));
        return cached.key;
      }
      throw new RoutingKeyInvalidError(
        `Secret "${secretId}" for route "${route}" does not hold a PagerDuty integration key ` +
          `(expected 32 letters or digits, found ${key.length} characters). Put the Events API v2 integration key ` +
          'in the secret as plain text.',
      );
    }
    this.cache.set(route, { key, fetchedAt: this.now() });
    return key;
  }
}
