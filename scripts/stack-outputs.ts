// The tools' `--stack <name>`: a deployed stack's outputs (CloudFormation DescribeStacks), so the queue URL, the
// table and the function need not be copied by hand.
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/** Output key → value of one stack. */
export type StackOutputs = Readonly<Record<string, string>>;

export class StackOutputError extends Error {
  override readonly name = 'StackOutputError';
}

/** The outputs of the named stack (name or stack ID), in the client's region. */
export async function stackOutputs(client: CloudFormationClient, stackName: string): Promise<StackOutputs> {
  let answer;
  try {
    answer = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (error) {
    throw new StackOutputError(
      `Could not read stack "${stackName}" (${error instanceof Error ? error.message : String(error)}). ` +
        'Its region is the environment’s (AWS_REGION or the profile’s); check the name with `aws cloudformation list-stacks`.',
      { cause: error },
    );
  }
  const outputs = answer.Stacks?.[0]?.Outputs ?? [];
  return Object.fromEntries(
    outputs.flatMap((output) =>
      output.OutputKey && output.OutputValue !== undefined ? [[output.OutputKey, output.OutputValue]] : [],
    ),
  );
}

/** The first of `keys` the stack outputs, or an error naming what the stack has and what to add. */
export function requireOutput(outputs: StackOutputs, stackName: string, keys: readonly string[]): string {
  for (const key of keys) {
    const value = outputs[key];
    if (value !== undefined) return value;
  }
  const has = Object.keys(outputs);
  throw new StackOutputError(
    `Stack "${stackName}" has no output ${keys.join(' or ')} (it has: ${has.join(', ') || 'none'}). ` +
      `Add one, e.g. new CfnOutput(this, '${keys[0]}', { value: … }), or pass the value with its option.`,
  );
}
