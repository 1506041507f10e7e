// `--stack <name>`: the tools read the queue URL, the table and the function from the stack's outputs
// (CloudFormation DescribeStacks), here against a stack moto_server created from a template.
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { metricAlarmMessage, snsEvent } from '../../local/alarm-fixtures';
import { awsEnvFor, describeWithMoto, startMoto, type MotoServer } from '../../local/moto';
import { redriveCommand } from '../../scripts/redrive';
import { requireOutput, stackOutputs } from '../../scripts/stack-outputs';
import { captureStdout } from '../support/output';

/** A stack whose outputs name a queue made beforehand (moto's CloudFormation gives its own queues AWS URLs). */
const template = (queueUrl: string) => ({
  Resources: { Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
  Outputs: {
    ParkedQueueUrl: { Value: queueUrl },
    FunctionName: { Value: 'AlarmToPagerDuty-PagerHandler-abc' },
  },
});

describeWithMoto('--stack reads the stack outputs', () => {
  let moto: MotoServer;
  let saved: NodeJS.ProcessEnv;
  let cloudformation: CloudFormationClient;
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    moto = await startMoto();
    saved = { ...process.env };
    Object.assign(process.env, awsEnvFor(moto.endpoint));
    cloudformation = new CloudFormationClient({});
    sqs = new SQSClient({});
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'parked' }))).QueueUrl!;
    await cloudformation.send(
      new CreateStackCommand({ StackName: 'PagingStack', TemplateBody: JSON.stringify(template(queueUrl)) }),
    );
  });
  afterAll(async () => {
    process.env = saved;
    cloudformation?.destroy();
    sqs?.destroy();
    await moto?.stop();
  });

  it('finds an output by key, and names what the stack has when one is missing', async () => {
    const outputs = await stackOutputs(cloudformation, 'PagingStack');
    expect(requireOutput(outputs, 'PagingStack', ['ParkedQueueUrl'])).toBe(queueUrl);
    expect(() => requireOutput(outputs, 'PagingStack', ['LedgerTableName'])).toThrow(
      /Stack "PagingStack" has no output LedgerTableName \(it has: ParkedQueueUrl, FunctionName\)/,
    );
    await expect(stackOutputs(cloudformation, 'NoSuchStack')).rejects.toThrow(
      /Could not read stack "NoSuchStack"/,
    );
  });

  it('redrive --stack --dry-run lists the letters of the stack’s parked queue and deletes none', async () => {
    const event = snsEvent([
      metricAlarmMessage({ alarmName: 'parked-one', state: 'ALARM', stateChangeMs: Date.now() }),
    ]);
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }));
    const output = captureStdout();
    let code: number;
    try {
      code = await redriveCommand(['--stack', 'PagingStack', '--dry-run']);
    } finally {
      output.restore();
    }
    expect(code).toBe(0);
    expect(output.text()).toContain('1 received, 0 replayed, 0 deleted, 0 failed, 0 unreadable (dry run)');
  });
});
