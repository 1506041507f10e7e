import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack, examplePropsFromContext, intakesFromContext } from './example-stack';
import { RegionalIntakeStack } from '../lib/regional-intake';

const app = new App();

const stackName: unknown = app.node.tryGetContext('stackName');
const centralName = typeof stackName === 'string' && stackName !== '' ? stackName : 'AlarmToPagerDuty';
const props = examplePropsFromContext(app.node);
const central = new ExampleStack(app, centralName, {
  ...props,
  // Unset without credentials: the stack is then environment-agnostic and still synthesizes offline.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

// One intake per other account/region whose alarms should page: -c intakes='["eu-west-1","123456789012/us-west-2"]'
const intakes = intakesFromContext(app.node, process.env.CDK_DEFAULT_ACCOUNT);
if (intakes.length > 0 && (!process.env.CDK_DEFAULT_ACCOUNT || !process.env.CDK_DEFAULT_REGION)) {
  throw new Error(
    '-c intakes needs the central stack in a known account and region: run cdk with credentials (a --profile of ' +
      'the central account, region set) so that CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION are set.',
  );
}
for (const env of intakes) {
  const id = env.account === process.env.CDK_DEFAULT_ACCOUNT ? env.region : `${env.account}-${env.region}`;
  new RegionalIntakeStack(app, `${centralName}-Intake-${id}`, {
    env,
    pipeline: central.pipeline,
    opsEmail: props.opsEmail,
  });
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
