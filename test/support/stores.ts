import { startDynalite } from '../../local/dynalite';
import { localStores, motoStores, type PipelineStores } from '../../local/harness';
import { motoAvailability, startMoto } from '../../local/moto';
import { LocalSecretsStore } from '../../local/secrets-store';

export interface TestStores {
  /** moto_server when it can run (always under CI=true, where it must), else dynalite and the loopback secrets. */
  readonly kind: 'moto' | 'dynalite';
  readonly stores: PipelineStores;
  stop(): Promise<void>;
}

/**
 * DynamoDB and Secrets Manager for a handler test: moto_server, or, where moto is not installed, dynalite and the
 * loopback secrets store, so the fast loop runs the same tests in process. Under CI=true moto must start.
 */
export async function startStores(): Promise<TestStores> {
  if (motoAvailability().available || process.env.CI === 'true') {
    const moto = await startMoto();
    return { kind: 'moto', stores: motoStores(moto.endpoint), stop: () => moto.stop() };
  }
  const [dynamo, secrets] = await Promise.all([startDynalite(), LocalSecretsStore.start({})]);
  return {
    kind: 'dynalite',
    stores: localStores(dynamo.endpoint, secrets),
    stop: async () => {
      await secrets.stop();
      await dynamo.stop();
    },
  };
}
