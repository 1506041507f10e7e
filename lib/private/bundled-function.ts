import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BUNDLE_NODE_MAJOR, functionCode, type BundledFunction } from './handler-bundle';

/** The construct ids of a bundled function's parts: each construct keeps its own, so templates do not change. */
export interface BundledFunctionIds {
  readonly logs: string;
  readonly role: string;
  readonly function: string;
}

export interface BundledFunctionProps extends Omit<
  NodejsFunctionProps,
  | 'code'
  | 'entry'
  | 'handler'
  | 'projectRoot'
  | 'depsLockFilePath'
  | 'bundling'
  | 'role'
  | 'logGroup'
  | 'runtime'
> {
  /** A Node.js runtime no older than the bundle's target; Node.js 24 when unset. */
  readonly runtime?: lambda.Runtime;
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
  // `runtime` is taken out of the rest: an explicit undefined there would let NodejsFunction pick its own default.
  const { fn, ids, roleDescription, bundleAwsSdk, logRetention, runtime: chosen, ...functionProps } = props;
  const runtime = chosen ?? lambda.Runtime.NODEJS_24_X;
  checkRuntime(runtime);
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
    runtime,
    architecture: lambda.Architecture.ARM_64,
    ...functionProps,
    role,
    logGroup,
  });
  acknowledgeNewerRuntime(created, runtime);
  return { function: created, role, logGroup };
}

/** The major version of a `nodejs<N>.x` runtime, else undefined. */
function nodeMajor(runtime: lambda.Runtime): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(runtime.name);
  return match ? Number(match[1]) : undefined;
}

/** The bundles are ESM built for Node.js 24 (esbuild target node24): an older runtime may not run them. */
export function checkRuntime(runtime: lambda.Runtime): void {
  const major = nodeMajor(runtime);
  if (major === undefined || major < BUNDLE_NODE_MAJOR) {
    throw new Error(
      `AlarmToPagerDuty: runtime ${runtime.name} cannot run the functions: they are bundled for Node.js ` +
        `${BUNDLE_NODE_MAJOR} (esbuild target node${BUNDLE_NODE_MAJOR}); use lambda.Runtime.NODEJS_${BUNDLE_NODE_MAJOR}_X or a newer Node.js runtime.`,
    );
  }
}

/**
 * cdk-nag's AwsSolutions-L1 wants the newest runtime of the family that the app's aws-cdk-lib knows (aws-cdk-lib
 * 2.278 added Node.js 26). Node.js 24 is the default on purpose: the prebuilt bundles target it and every test runs
 * on it. Acknowledged only while a newer Node.js runtime is known, on this function only; `runtime` opts in.
 */
function acknowledgeNewerRuntime(fn: NodejsFunction, runtime: lambda.Runtime): void {
  const major = nodeMajor(runtime) ?? 0;
  const newer = lambda.Runtime.ALL.map(nodeMajor).filter((m): m is number => m !== undefined && m > major);
  if (newer.length === 0) return;
  Validations.of(fn.node.defaultChild!).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      `The prebuilt bundle targets Node.js ${BUNDLE_NODE_MAJOR} (esbuild node${BUNDLE_NODE_MAJOR}), the runtime its tests run ` +
      `on; this aws-cdk-lib also knows nodejs${Math.max(...newer)}.x, which the construct's runtime prop opts into.`,
  });
}
