import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack, examplePropsFromContext } from '../lib/example-stack';

const app = new App();

const stackName: unknown = app.node.tryGetContext('stackName');
new ExampleStack(app, typeof stackName === 'string' && stackName !== '' ? stackName : 'AlarmToPagerDuty', {
  ...examplePropsFromContext(app.node),
  // Unset without credentials: the stack is then environment-agnostic and still synthesizes offline.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
