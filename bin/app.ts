import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack, examplePropsFromContext, intakesFromContext } from '../lib/example-stack';
import { RegionalIntakeStack } from '../lib/regional-intake';

const app = new App();

const stackName: unknown = app.node.tryGetContext('stackName');
const centralName = typeof stackName === 'string' && stackName !== '' ? stackName : 'AlarmToPagerDuty';
const central = new ExampleStack(app, centralName, {
  ...examplePropsFromContext(app.node),
  // Unset without credentials: the stack is then environment-agnostic and still synthesizes offline.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

// One intake per other account/region whose alarms should page: -c intakes='["eu-west-1","123456789012/us-west-2"]'
for (const env of intakesFromContext(app.node, process.env.CDK_DEFAULT_ACCOUNT)) {
  const id = env.account === process.env.CDK_DEFAULT_ACCOUNT ? env.region : `${env.account}-${env.region}`;
  new RegionalIntakeStack(app, `${centralName}-Intake-${id}`, { env, pipeline: central.pipeline });
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
