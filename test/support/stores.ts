import { startDynalite } from '../../local/dynalite';
import { localStores, motoStores, type PipelineStores } from '../../local/harness';
import { motoAvailability, startMoto } from '../../local/moto';
import { S3StandIn } from '../../local/s3-stand-in';
import { LocalSecretsStore } from '../../local/secrets-store';

export interface TestStores {
  /** moto_server when it can run (always under CI=true, where it must), else dynalite and the loopback secrets. */
  readonly kind: 'moto' | 'dynalite';
  readonly stores: PipelineStores;
  /** S3's endpoint (moto, or the loopback S3 stand-in), when asked for with `{ s3: true }`. */
  readonly s3Endpoint?: string;
  stop(): Promise<void>;
}

export interface StartStoresOptions {
  /** Also an S3 (the metric graphs' bucket). @default false */
  readonly s3?: boolean;
}

/**
 * DynamoDB and Secrets Manager (and S3 if asked) for a handler test: moto_server, or, where moto is not installed,
 * dynalite and the loopback stand-ins, so the fast loop runs the same tests in process. Under CI=true moto must start.
 */
export async function startStores(options: StartStoresOptions = {}): Promise<TestStores> {
  if (motoAvailability().available || process.env.CI === 'true') {
    const moto = await startMoto();
    return {
      kind: 'moto',
      stores: motoStores(moto.endpoint),
      ...(options.s3 ? { s3Endpoint: moto.endpoint } : {}),
      stop: () => moto.stop(),
    };
  }
  const [dynamo, secrets, s3] = await Promise.all([
    startDynalite(),
    LocalSecretsStore.start({}),
    options.s3 ? S3StandIn.start() : undefined,
  ]);
  return {
    kind: 'dynalite',
    stores: localStores(dynamo.endpoint, secrets),
    ...(s3 ? { s3Endpoint: s3.url } : {}),
    stop: async () => {
      await Promise.all([secrets.stop(), s3?.stop()]);
      await dynamo.stop();
    },
  };
}
