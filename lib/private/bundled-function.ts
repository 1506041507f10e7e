import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { functionCode, type BundledFunction } from './handler-bundle';

/** The construct ids of a bundled function's parts: each construct keeps its own, so templates do not change. */
export interface BundledFunctionIds {
  readonly logs: string;
  readonly role: string;
  readonly function: string;
}

export interface BundledFunctionProps extends Omit<
  NodejsFunctionProps,
  'code' | 'entry' | 'handler' | 'projectRoot' | 'depsLockFilePath' | 'bundling' | 'role' | 'logGroup'
> {
  readonly fn: BundledFunction;
  readonly ids: BundledFunctionIds;
  /** What the role is for, in its description. */
  readonly roleDescription: string;
  readonly bundleAwsSdk?: boolean;
  readonly logRetention?: logs.RetentionDays;
}

export interface BundledFunctionParts {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/**
 * One of the package's functions (lambda/<fn>.ts, or its prebuilt bundle) on arm64 Node.js 24, with its own log
 * group and its own role: no AWS managed policy, logs only to that log group.
 */
export function bundledFunction(scope: Construct, props: BundledFunctionProps): BundledFunctionParts {
  const { fn, ids, roleDescription, bundleAwsSdk, logRetention, ...functionProps } = props;
  const logGroup = new logs.LogGroup(scope, ids.logs, {
    retention: logRetention ?? logs.RetentionDays.ONE_YEAR,
  });
  const role = new iam.Role(scope, ids.role, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: roleDescription,
  });
  logGroup.grantWrite(role);
  const created = new NodejsFunction(scope, ids.function, {
    ...functionCode(fn, bundleAwsSdk ?? true),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    ...functionProps,
    role,
    logGroup,
  });
  return { function: created, role, logGroup };
}
