import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import type { InsufficientDataPolicy } from '../../lambda/shared/contract';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../pipeline-health';
import { secretId } from './handler-grants';

/** The props the handler's environment is written from (AlarmToPagerDutyProps has them all). */
export interface EnvironmentProps {
  readonly routes: Readonly<Record<string, secretsmanager.ISecret>>;
  readonly defaultSeverity?: string;
  readonly unrecognisedMessages?: string;
  readonly ledgerTtl?: Duration;
  readonly environment?: string;
  readonly environmentRoutes?: Readonly<Record<string, string>>;
  readonly pagerDutyEventsUrl?: string;
  readonly publisherAccountIds?: readonly string[];
  readonly linkHosts?: readonly string[];
}

export interface EnvironmentRefs {
  readonly ledger: dynamodb.ITable;
  readonly parkedQueue: sqs.IQueue;
  readonly topic: sns.ITopic;
  readonly insufficientData: InsufficientDataPolicy;
  readonly retryWindowHours: number;
  /** ALARM_SETTINGS, rendered at synth once every addAlarm has run. */
  readonly alarmSettings: () => string;
}

/** The handler's environment (lambda/shared/contract.ts HandlerEnvironment): what the construct decided, by name. */
export function handlerEnvironment(
  scope: IConstruct,
  props: EnvironmentProps,
  refs: EnvironmentRefs,
): Record<string, string> {
  const stack = Stack.of(scope);
  const environment: Record<string, string> = {
    LEDGER_TABLE_NAME: refs.ledger.tableName,
    // Decision 15: this topic carries publisherAccountIds too; an intake only its own account and region.
    CENTRAL_TOPIC_ARN: refs.topic.topicArn,
    ROUTING_KEY_SECRETS: stack.toJsonString(
      Object.fromEntries(Object.entries(props.routes).map(([route, secret]) => [route, secretId(secret)])),
    ),
    DEFAULT_SEVERITY: props.defaultSeverity ?? 'critical',
    INSUFFICIENT_DATA_POLICY: refs.insufficientData,
    UNRECOGNISED_MESSAGES: props.unrecognisedMessages ?? 'trigger',
    LEDGER_TTL_DAYS: String((props.ledgerTtl ?? Duration.days(90)).toDays()),
    PARKED_QUEUE_URL: refs.parkedQueue.queueUrl,
    RETRY_WINDOW_HOURS: String(refs.retryWindowHours),
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    NODE_OPTIONS: '--enable-source-maps',
    ALARM_SETTINGS: Lazy.string({ produce: refs.alarmSettings }),
  };
  if (props.environment !== undefined) environment.ENVIRONMENT = props.environment;
  if (Object.keys(props.environmentRoutes ?? {}).length > 0) {
    environment.ENVIRONMENT_ROUTES = JSON.stringify(props.environmentRoutes);
  }
  if (props.pagerDutyEventsUrl !== undefined) environment.PAGERDUTY_EVENTS_URL = props.pagerDutyEventsUrl;
  if (props.publisherAccountIds?.length) {
    environment.PUBLISHER_ACCOUNT_IDS = stack.toJsonString(props.publisherAccountIds);
  }
  if (props.linkHosts !== undefined) environment.LINK_HOSTS = JSON.stringify(props.linkHosts);
  return environment;
}
