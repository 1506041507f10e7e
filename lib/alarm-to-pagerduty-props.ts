import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { AlarmEventsSelection } from './eventbridge-intake';
import type { MetricGraphSettings } from './metric-graph-images';
import type { InsufficientDataPolicy, Severity } from './paging-options';
import type { TriageOptions } from './private/model-triage';

// The props of the AlarmToPagerDuty construct, in a file of their own so the construct's file reads as its build.
/** Properties of {@link AlarmToPagerDuty}: only `routes` is required. */
export interface AlarmToPagerDutyProps {
  /**
   * Route name → the Secrets Manager secret whose SecretString is that PagerDuty service's 32-character
   * integration key. Must contain `default`. The key is read at run time; it never appears in the template.
   */
  readonly routes: Record<string, secretsmanager.ISecret>;
  /**
   * Severity of incidents opened by alarms that do not set their own.
   * @default 'critical'
   */
  readonly defaultSeverity?: Severity;
  /**
   * What INSUFFICIENT_DATA does for alarms that do not set their own policy. With `ignore`, alarms get no
   * insufficient-data action at all.
   * @default 'ignore'
   */
  readonly insufficientDataPolicy?: InsufficientDataPolicy;
  /**
   * What to do with a message on the topic that is not a CloudWatch alarm (a console test publish, say):
   * open an incident that shows the raw text, or drop it (counted and logged).
   * @default 'trigger'
   */
  readonly unrecognisedMessages?: 'trigger' | 'drop';
  /**
   * Environment name (dev, staging, prod...) carried in every incident.
   * @default - none
   */
  readonly environment?: string;
  /**
   * Routes by environment: an alarm whose environment (its `pagerduty:environment` tag, its `addAlarm` option, else
   * `environment`) is a key here, and that names no route of its own (tag or `addAlarm`), goes to that route; so
   * do AWS service notifications and console test publishes, whose environment is `environment`. Names are matched
   * without regard to case; each route must be one of `routes`.
   * @example { staging: 'staging', dev: 'dev' }
   * @default - every alarm that names no route goes to `default`
   */
  readonly environmentRoutes?: Record<string, string>;
  /**
   * How long the ledger remembers an alarm's last state change after it resolved (an open incident's item never
   * expires). At least 15 days: longer than the queues keep a letter, so a redriven old notification still finds
   * the newer state and stays a no-op.
   * @default Duration.days(90)
   */
  readonly ledgerTtl?: Duration;
  /**
   * Base URL of the PagerDuty Events API (for the EU service region, or a proxy).
   * @default - https://events.pagerduty.com (the handler's default)
   */
  readonly pagerDutyEventsUrl?: string;
  /**
   * Reserved concurrency of the handler. Reserving guarantees the handler this much concurrency and caps it there
   * (alarm notifications beyond it wait in Lambda's async queue), but Lambda keeps 100 of the account's concurrency
   * unreserved, so a reservation fails to deploy on an account whose quota is too low for that (new accounts often
   * are). At least 3: the retry queue's event source mapping may run 2 at once.
   * @default - none: the handler shares the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;
  /**
   * How long a letter in the retry queue is retried before the handler parks it (RETRY_WINDOW_HOURS). Whole hours,
   * 1 to 48. The retry queue's redrive policy parks a letter the handler could not after 1.25 times this.
   * @default Duration.hours(24)
   */
  readonly retryWindow?: Duration;
  /**
   * How long an event may wait in Lambda's async queue (throttled or between retries) before it goes to
   * the retry queue. 1 minute to 6 hours.
   * @default Duration.hours(6)
   */
  readonly maxEventAge?: Duration;
  /**
   * Handler timeout; the handler budgets its PagerDuty retries within it. A letter waiting for a rate-limit slot
   * needs longer than PagerDuty's 60-second window, so keep it above about 75 seconds.
   * @default Duration.seconds(90)
   */
  readonly timeout?: Duration;
  /**
   * Handler memory (arm64 CPU scales with it).
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Retention of the handler's log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * X-Ray tracing of the handler.
   * @default lambda.Tracing.DISABLED
   */
  readonly tracing?: lambda.Tracing;
  /**
   * Topic that receives the pipeline's own health alarms (never PagerDuty through this pipeline: if the
   * pipeline is broken, that page would not arrive). It must let CloudWatch publish.
   * @default - a new topic encrypted with this construct's key
   */
  readonly opsTopic?: sns.ITopic;
  /**
   * Email address subscribed to the created ops topic. Not allowed together with `opsTopic`.
   * @default - no subscription
   */
  readonly opsEmail?: string;
  /**
   * Other AWS accounts whose CloudWatch alarms may publish to the topic (cross-account alarms).
   * @default - only this account
   */
  readonly publisherAccountIds?: string[];
  /**
   * Deny `sns:Publish` on the topic to every principal except CloudWatch (of this account and
   * `publisherAccountIds`) and the roles in `publisherRoleArns`, whatever their own IAM policies allow. Without it,
   * any principal of this account whose IAM policies allow `sns:Publish` on the topic can publish, including a forged
   * OK that resolves a real incident.
   * @default false
   */
  readonly restrictPublishing?: boolean;
  /**
   * With `restrictPublishing`: IAM role ARNs that may still publish (drills, console test publishes). Matched with
   * ArnLike against `aws:PrincipalArn`, so `*` is allowed (e.g. an IAM Identity Center role's random suffix).
   * @default - none: only CloudWatch may publish
   */
  readonly publisherRoleArns?: string[];
  /**
   * Turn on alarm tag propagation (`ActionConfiguration.AlarmTagsPropagation`, restricted to the
   * `pagerduty:*` keys) on alarms passed to `addAlarm`, so their notifications carry the routing tags and
   * tag changes apply without a deploy. `ALARM_SETTINGS` carries the same options either way, so turning it
   * off loses only the no-deploy tag changes.
   * @default true
   */
  readonly propagateAlarmTags?: boolean;
  /**
   * What happens to the ledger table when it is removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Bundle the AWS SDK into the function (the SDK version the tests ran against, and one file to load: about
   * 50 ms faster to load than the runtime's SDK in `npm run bench`), instead of using the copy the Lambda runtime
   * provides (a bundle about 370 KB smaller). The npm package ships both bundles prebuilt.
   * @default true
   */
  readonly bundleAwsSdk?: boolean;
  /**
   * The EventBridge intake: page for the selected alarms' state changes from EventBridge, with no alarm action
   * attached. Regional intakes forward their environment's events to it.
   * @default - off
   */
  readonly alarmEvents?: AlarmEventsSelection;
  /**
   * Attach a graph of the alarm's metric (threshold or band drawn, around the state change) to each trigger:
   * a private bucket, a signing key and a public image endpoint whose links are signed and expire (14 days).
   * Off by default: it adds a public Lambda function URL (which some organisations' policies forbid, and some
   * regions lack) and up to 1 s per page. `true`, or the graphs' settings: how long links work (`linkTtl`), how
   * long a page waits for its graphs (`timeout`), other accounts' alarms (`crossAccount`). See MetricGraphImages.
   * @default false
   */
  readonly metricGraphs?: boolean | MetricGraphSettings;
  /**
   * The Node.js runtime of the construct's functions (handler, reconciliation sweep, image endpoint, deploy marker). The prebuilt
   * bundles target Node.js 24 and are tested on it, so that is the default and the oldest allowed; a newer
   * Node.js runtime (e.g. `lambda.Runtime.NODEJS_26_X` on aws-cdk-lib 2.278+) runs the same bundle untested
   * here. While the app's aws-cdk-lib knows a newer Node.js than the one chosen, cdk-nag's AwsSolutions-L1 is
   * acknowledged on each function with that reason.
   * @default lambda.Runtime.NODEJS_24_X
   */
  readonly runtime?: lambda.Runtime;
  /**
   * With `metricGraphs`: the image endpoint's reserved concurrency, so that a flood of requests to its public URL
   * is throttled there and never takes the alarm handler's share of the account's unreserved concurrency. Needs an
   * account concurrency quota of at least 100 plus this (Lambda keeps 100 unreserved; see design decision 9).
   * @default 2
   */
  readonly imageEndpointConcurrency?: number;
  /**
   * Hosts that runbook and dashboard links from alarm tags may name (`wiki.example.com`, or `*.example.com` for the
   * hosts under it): a tag travels in the notification, so whoever can publish chooses it. Links are https only
   * either way; links declared with `addAlarm` are not held to this list.
   * @default - any https host
   */
  readonly linkHosts?: string[];
  /**
   * Send a PagerDuty change event to the default route on every deploy of this stack (a custom resource that
   * never fails the deploy).
   * @default true
   */
  readonly deployChangeEvents?: boolean;
  /**
   * The version a deploy's change event names, e.g. a commit.
   * @default - the `version` context value (`cdk deploy -c version=<commit>`), else the synthesis time
   */
  readonly deployVersion?: string;
  /**
   * Opt-in model triage through Amazon Bedrock: a severity suggestion and a short note for each trigger, in its
   * custom details (and, with `severity: 'apply'`, its severity when the alarm declares none). Never delays a page
   * past `timeout`; grants `bedrock:InvokeModel` on that model only. See TriageOptions.
   * @default - off
   */
  readonly triage?: TriageOptions;
  /**
   * The reconciliation sweep: a function of its own, from the handler's bundle, run on a schedule, that makes
   * PagerDuty follow CloudWatch's state whatever notifications were lost: it resolves open incidents whose alarm
   * is OK, deleted or (per its policy) INSUFFICIENT_DATA, pages wired alarms in ALARM with no open incident, and
   * re-pages alarms that ask for it (`repageInterval`). It reads this account's alarms in the central region and
   * in every regional intake's, and other accounts' through a read-only role each of their intakes deploys.
   * @default true
   */
  readonly reconcile?: boolean;
  /**
   * How often the sweep runs: whole minutes, 1 minute to 1 day. A sweep's timeout is this, at most 5 minutes.
   * @default Duration.minutes(5)
   */
  readonly reconcileInterval?: Duration;
}
