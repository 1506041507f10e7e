import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { TRIAGE_MODES, type HandlerEnvironment, type TriageMode } from '../../lambda/shared/contract';
import { pipelineMetric } from '../pipeline-health';

/** Opt-in model triage of triggers through Amazon Bedrock (design decision 16). */
export interface TriageOptions {
  /**
   * A Bedrock model id (`amazon.nova-micro-v1:0`), a cross-Region inference profile id
   * (`us.anthropic.claude-3-5-haiku-20241022-v1:0`), or the ARN of a model or inference profile. The model must
   * support the Converse API's tool use with a specific tool choice (Anthropic Claude 3 and later, Amazon Nova).
   */
  readonly modelId: string;
  /**
   * `suggest`: the model's severity, confidence and note go into the event's custom details, nothing else changes.
   * `apply`: also the event's severity, for alarms with no declared severity (tag or `addAlarm` option).
   * @default 'suggest'
   */
  readonly severity?: TriageMode;
  /**
   * The longest a page waits for the model (100 ms to 10 s); past it, the page goes out without triage.
   * @default Duration.millis(1500)
   */
  readonly timeout?: Duration;
}

type TriageEnvironment = Pick<
  HandlerEnvironment,
  'TRIAGE_MODEL_ID' | 'TRIAGE_SEVERITY' | 'TRIAGE_TIMEOUT_MS'
>;

/** The handler's TRIAGE_* variables; throws on a bad option at synthesis. */
export function triageEnvironment(options: TriageOptions): TriageEnvironment {
  const severity = options.severity ?? 'suggest';
  if (!TRIAGE_MODES.includes(severity)) {
    throw new Error(`AlarmToPagerDuty: triage.severity must be one of ${TRIAGE_MODES.join(', ')}`);
  }
  if (!Token.isUnresolved(options.modelId) && options.modelId.trim() === '') {
    throw new Error('AlarmToPagerDuty: triage.modelId must not be empty');
  }
  const timeoutMs = (options.timeout ?? Duration.millis(1500)).toMilliseconds();
  if (timeoutMs < 100 || timeoutMs > 10_000) {
    throw new Error('AlarmToPagerDuty: triage.timeout must be between 100 ms and 10 s');
  }
  return {
    TRIAGE_MODEL_ID: options.modelId,
    TRIAGE_SEVERITY: severity,
    TRIAGE_TIMEOUT_MS: String(timeoutMs),
  };
}

// System-defined cross-Region inference profiles are named by a geography before the model id.
const PROFILE_ID = /^(us|eu|apac|us-gov|jp|au|ca|global)\.(.+)$/;

/**
 * `bedrock:InvokeModel` (which Converse needs) on that model only: the foundation model in this Region; or the
 * inference profile, and its foundation model in any Region the profile routes to, only through that profile.
 */
export function grantTriageModel(role: iam.Role, stack: Stack, modelId: string): void {
  const { partition, region, account } = stack;
  const profileArn = (id: string) => `arn:${partition}:bedrock:${region}:${account}:inference-profile/${id}`;
  const profile = Token.isUnresolved(modelId) ? undefined : profileOf(modelId, profileArn);
  if (profile === undefined) {
    const arn = modelId.startsWith('arn:')
      ? modelId
      : `arn:${partition}:bedrock:${region}::foundation-model/${modelId}`;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [arn] }),
    );
    return;
  }
  const models = (partitionText: string) =>
    `arn:${partitionText}:bedrock:*::foundation-model/${profile.model ?? '*'}`;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [profile.arn] }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['bedrock:InvokeModel'],
      resources: [models(partition)],
      conditions: { StringEquals: { 'bedrock:InferenceProfileArn': profile.arn } },
    }),
  );
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  Validations.of(policy).acknowledge({
    // cdk-nag names the finding by the ARN as written, a token shown as <AWS::Partition>.
    id: `AwsSolutions-IAM5[Resource::${models(Token.isUnresolved(partition) ? '<AWS::Partition>' : partition)}]`,
    reason:
      'A cross-Region inference profile needs bedrock:InvokeModel on its foundation model in each Region it routes ' +
      'to, which Bedrock chooses; the statement allows it only through that profile (bedrock:InferenceProfileArn).',
  });
}

/** The profile's ARN and, when its id names it, its foundation model; undefined for a foundation model. */
function profileOf(
  modelId: string,
  profileArn: (id: string) => string,
): { arn: string; model?: string } | undefined {
  if (modelId.startsWith('arn:')) {
    if (/:(application-)?inference-profile\//.test(modelId)) {
      const id = modelId.split(':inference-profile/')[1];
      return { arn: modelId, model: id === undefined ? undefined : PROFILE_ID.exec(id)?.[2] };
    }
    return undefined;
  }
  const named = PROFILE_ID.exec(modelId);
  return named ? { arn: profileArn(modelId), model: named[2] } : undefined;
}

/** The dashboard row for triage: what it costs (calls, tokens) and how often a page went without it. */
export function triageWidgets(): cloudwatch.IWidget[] {
  return [
    new cloudwatch.GraphWidget({
      title: 'Model triage: calls, timeouts, failures',
      width: 12,
      left: [
        pipelineMetric('TriageCalls'),
        pipelineMetric('TriageTimeouts'),
        pipelineMetric('TriageFailures'),
        pipelineMetric('TriageApplied'),
        pipelineMetric('TriageReused'),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: 'Model triage: tokens used',
      width: 12,
      left: [pipelineMetric('TriageTokens')],
    }),
  ];
}
