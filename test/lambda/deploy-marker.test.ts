import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { METRICS_NAMESPACE, PIPELINE_METRICS } from '../../lambda/shared/contract';
import {
  changeEventFor,
  deployMarkerFromEnv,
  handler,
  isCloudFormationResponseUrl,
  stackOf,
} from '../../lambda/deploy-marker';
import { newRoutingKey } from '../../local/harness';
import { PagerDutyEmulator } from '../../local/pagerduty-emulator';
import { LocalSecretsStore } from '../../local/secrets-store';
import { captureStdout, emfMetrics, metricTotal } from '../support/output';
import { publishMetrics } from '../../lambda/shared/telemetry';

const STACK_ID =
  'arn:aws:cloudformation:eu-west-1:111122223333:stack/payments-alarms/6d7c0a40-1f2e-11f0-9c3b-0a1b2c3d4e5f';

/** Records what the custom resource answers CloudFormation (the pre-signed S3 response URL in AWS). */
async function responseCatcher(): Promise<{
  url: string;
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}> {
  const bodies: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      bodies.push({ ...(JSON.parse(body) as Record<string, unknown>), method: req.method });
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/cfn-response?X-Amz-Signature=abc`,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function cfnEvent(
  requestType: 'Create' | 'Update' | 'Delete',
  responseUrl: string,
  version = '3f2a9c1',
): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:marker',
    ResponseURL: responseUrl,
    StackId: STACK_ID,
    RequestId: `req-${requestType}`,
    LogicalResourceId: 'PagerDutyDeployMarker',
    ResourceType: 'Custom::PagerDutyChangeEvent',
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:marker',
      Version: version,
      Pipeline: 'PaymentsAlarms/Pager',
      Environment: 'prod',
    },
    ...(requestType === 'Create'
      ? {}
      : { PhysicalResourceId: 'PagerDutyDeployMarker-pagerduty-change-events' }),
    ...(requestType === 'Update' ? { OldResourceProperties: { Version: 'old' } } : {}),
  } as CloudFormationCustomResourceEvent;
}

const remaining = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

describe('the change event for a deploy', () => {
  it('names the stack, account, region and version, and links to the stack', () => {
    const event = changeEventFor(cfnEvent('Update', 'http://x'), Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(event.payload.summary).toBe(
      'Deployed [prod] payments-alarms version 3f2a9c1 in 111122223333 eu-west-1',
    );
    expect(event.payload.timestamp).toBe('2030-01-02T03:04:05.000Z');
    expect(event.payload.custom_details).toMatchObject({
      stack: 'payments-alarms',
      account: '111122223333',
      region: 'eu-west-1',
      version: '3f2a9c1',
      request: 'Update',
      pipeline: 'PaymentsAlarms/Pager',
    });
    expect(event.links?.[0]?.href).toBe(
      `https://console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/stackinfo?stackId=${encodeURIComponent(STACK_ID)}`,
    );
    expect(stackOf('arn:aws-cn:cloudformation:cn-north-1:111122223333:stack/s/1')).toEqual({
      partition: 'aws-cn',
      region: 'cn-north-1',
      account: '111122223333',
      name: 's',
    });
  });
});

describe('the deploy marker custom resource against the PagerDuty emulator', () => {
  const routingKey = newRoutingKey();
  let emulator: PagerDutyEmulator;
  let secrets: LocalSecretsStore;
  let catcher: Awaited<ReturnType<typeof responseCatcher>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    [emulator, secrets, catcher] = await Promise.all([
      PagerDutyEmulator.start(),
      LocalSecretsStore.start({ 'pagerduty/default': routingKey }),
      responseCatcher(),
    ]);
    env = {
      ROUTING_KEY_SECRET_ID: 'pagerduty/default',
      PAGERDUTY_EVENTS_URL: emulator.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    };
    process.env.AWS_ACCESS_KEY_ID ??= 'testing';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
    process.env.AWS_REGION ??= 'eu-west-1';
  });

  afterAll(async () => {
    await Promise.all([emulator?.stop(), secrets?.stop(), catcher?.close()]);
  });

  beforeEach(() => {
    emulator.reset();
    catcher.bodies.length = 0;
  });

  it('sends a change event on Create and Update to the default route, and answers SUCCESS', async () => {
    const marker = deployMarkerFromEnv(env);
    await marker(cfnEvent('Create', catcher.url, 'v1'), remaining(30_000));
    await marker(cfnEvent('Update', catcher.url, 'v2'), remaining(30_000));

    expect(emulator.changeEvents.map((e) => e.payload?.summary)).toEqual([
      'Deployed (new stack) [prod] payments-alarms version v1 in 111122223333 eu-west-1',
      'Deployed [prod] payments-alarms version v2 in 111122223333 eu-west-1',
    ]);
    expect(emulator.changeEvents.every((e) => e.routing_key === routingKey)).toBe(true);
    expect(catcher.bodies).toEqual([
      expect.objectContaining({
        method: 'PUT',
        Status: 'SUCCESS',
        PhysicalResourceId: 'PagerDutyDeployMarker-pagerduty-change-events',
        RequestId: 'req-Create',
        LogicalResourceId: 'PagerDutyDeployMarker',
        StackId: STACK_ID,
      }),
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: 'PagerDutyDeployMarker-pagerduty-change-events',
      }),
    ]);
  });

  it("a request whose ResponseURL is not CloudFormation's sends no change event and is answered nowhere", async () => {
    const marker = deployMarkerFromEnv(env);
    const elsewhere = 'https://attacker.example/collect?X-Amz-Signature=abc';
    await expect(marker(cfnEvent('Update', elsewhere), remaining(30_000))).rejects.toThrow(/ResponseURL/);
    expect(emulator.changeEvents).toEqual([]);
  });

  it('an events URL in clear (http to another host) sends nothing, and the deploy still goes on', async () => {
    const marker = deployMarkerFromEnv({ ...env, PAGERDUTY_EVENTS_URL: 'http://events.pagerduty.com' });
    const out = captureStdout();
    let outcome;
    try {
      outcome = await marker(cfnEvent('Update', catcher.url), remaining(30_000));
      publishMetrics();
    } finally {
      out.restore();
    }
    expect(metricTotal(out.lines(), 'ChangeEventFailures')).toBe(1);
    expect(outcome).toEqual({
      sent: false,
      reason: expect.stringContaining('PAGERDUTY_EVENTS_URL must be an https URL') as string,
    });
    expect(catcher.bodies).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
  });

  it('sends nothing on Delete, and answers SUCCESS', async () => {
    await deployMarkerFromEnv(env)(cfnEvent('Delete', catcher.url), remaining(30_000));
    expect(emulator.changeEvents).toEqual([]);
    expect(catcher.bodies).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
  });

  it('PagerDuty unreachable: the deploy still succeeds, within the time budget, and the failure is logged and counted', async () => {
    const unreachable: NodeJS.ProcessEnv = { ...env, PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:9' };
    const out = captureStdout();
    const started = Date.now();
    try {
      process.env.ROUTING_KEY_SECRET_ID = unreachable.ROUTING_KEY_SECRET_ID;
      process.env.PAGERDUTY_EVENTS_URL = unreachable.PAGERDUTY_EVENTS_URL;
      process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = unreachable.AWS_ENDPOINT_URL_SECRETS_MANAGER;
      await handler(cfnEvent('Update', catcher.url), remaining(8_000));
    } finally {
      out.restore();
      delete process.env.ROUTING_KEY_SECRET_ID;
      delete process.env.PAGERDUTY_EVENTS_URL;
      delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    }
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(4_000);
    expect(catcher.bodies).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        Reason: expect.stringContaining('Change event not sent'),
      }),
    ]);
    const lines = out.lines();
    expect(metricTotal(lines, 'ChangeEventFailures')).toBe(1);
    const published = emfMetrics(lines);
    expect(published).toEqual([{ namespace: METRICS_NAMESPACE, name: 'ChangeEventFailures' }]);
    // The contract lists every metric published, so the dashboard and the alarms in lib/ can read it.
    expect(PIPELINE_METRICS).toEqual(expect.arrayContaining(published.map(({ name }) => name)));
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: expect.stringContaining('change event NOT sent') }),
    );
    expect(out.text()).not.toContain(routingKey);
  });

  it.each([
    ['PagerDuty refuses the event (400)', { status: 400 } as const, 'PagerDuty refused it: HTTP 400'],
    [
      'PagerDuty answers 503 until the budget is spent',
      { status: 503 } as const,
      'PagerDuty not reachable in time',
    ],
  ])('%s: the deploy still succeeds', async (_name, fault, reason) => {
    emulator.failAlways(fault);
    try {
      const outcome = await deployMarkerFromEnv(env)(cfnEvent('Update', catcher.url), remaining(7_000));
      expect(outcome).toEqual({ sent: false, reason: expect.stringContaining(reason) });
    } finally {
      emulator.clearFaults();
    }
    expect(catcher.bodies).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
  });

  it('a missing integration key secret does not fail the deploy', async () => {
    const outcome = await deployMarkerFromEnv({ ...env, ROUTING_KEY_SECRET_ID: 'no/such/secret' })(
      cfnEvent('Create', catcher.url),
      remaining(30_000),
    );
    expect(outcome).toMatchObject({
      sent: false,
      reason: expect.stringContaining('RoutingKeyUnavailableError'),
    });
    expect(catcher.bodies).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
  });
});

describe("the response URL is CloudFormation's response bucket", () => {
  it.each([
    'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation?X-Amz-Signature=a',
    'https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/x?Signature=a',
    'https://cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com/x',
    'https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/x',
    'https://s3.amazonaws.com/cloudformation-custom-resource-response-useast1/x',
    'http://127.0.0.1:8080/cfn-response',
  ])('accepts %s', (url) => expect(isCloudFormationResponseUrl(url)).toBe(true));

  it.each([
    'https://attacker.example/x',
    'http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x',
    'https://cloudformation-custom-resource-response-useast1.s3.attacker.s3.amazonaws.com/x',
    'https://my-bucket.s3.amazonaws.com/x',
    'https://s3.amazonaws.com/my-bucket/cloudformation-custom-resource-response-useast1/x',
    'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:8443/x',
    'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.attacker.example/x',
    'http://169.254.169.254/latest/meta-data',
    'not a url',
  ])('refuses %s', (url) => expect(isCloudFormationResponseUrl(url)).toBe(false));
});
