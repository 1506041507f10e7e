// What other AWS services publish to an alarm topic, recognised and said in one line. Pure: text in, value out.
import { SEVERITIES, type Severity } from '../shared/contract';
import { consoleHostFor, isRegionCode } from '../shared/regions';
import { cutText } from '../shared/text';

/** The services recognised; also the first part of a SERVICE_SEVERITIES key. */
export const SERVICES = [
  'rds',
  'budgets',
  'backup',
  'autoscaling',
  'codepipeline',
  'codedeploy',
  'guardduty',
  'health',
  's3',
  'eventbridge',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/** How a notification turned out; picks the default severity (a GuardDuty finding carries its own). */
export type Outcome = 'test' | 'success' | 'info' | 'warning' | 'failure' | 'finding';

export interface ServiceLink {
  readonly href: string;
  readonly text: string;
}

/** Another AWS service's notification, read: what happened, to what, and how much it matters. */
export interface ServiceNotification {
  readonly service: ServiceName;
  /** Within the service: an RDS event ID, a job state, a Auto Scaling event, a GuardDuty level, a detail-type… */
  readonly kind: string;
  readonly outcome: Outcome;
  /** What happened, and to what, in one line (no environment prefix). */
  readonly summary: string;
  /** The default for this notification, before SERVICE_SEVERITIES. */
  readonly severity: Severity;
  /** The affected resource (an ARN when the notification names one), else `<service>:<region>:<account>`. */
  readonly source: string;
  readonly component?: string;
  /** The notification's type in AWS's own words: `RDS-EVENT-0006`, `GuardDuty Finding`, `autoscaling:…`. */
  readonly class?: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly links?: readonly ServiceLink[];
}

export interface ServiceNotificationInput {
  readonly subject?: string;
  readonly body: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json?: unknown;
}

/** `service` or `service:kind` or `service:outcome` → severity; keys lower-case. */
export type ServiceSeverities = Readonly<Record<string, Severity>>;

const SEVERITY_BY_OUTCOME: Readonly<Record<Exclude<Outcome, 'finding'>, Severity>> = {
  test: 'info',
  success: 'info',
  info: 'info',
  warning: 'warning',
  failure: 'error',
};

// Regexes below only ever see text cut to this many characters, so none can take long.
const SCAN_LIMIT = 8_192;
const MAX_SUMMARY_PART = 300;

/** Recognises a notification another AWS service published to the topic; undefined when nothing does. */
export function recogniseServiceNotification(
  input: ServiceNotificationInput,
): ServiceNotification | undefined {
  return recognise(input, 0);
}

function recognise(input: ServiceNotificationInput, depth: number): ServiceNotification | undefined {
  const json = input.json;
  if (isRecord(json)) {
    // A whole SNS notification forwarded from another topic or queue: read what it carries.
    if (depth === 0 && json.Type === 'Notification' && typeof json.Message === 'string') {
      return recognise(
        { subject: text(json.Subject), body: json.Message, json: tryParse(json.Message) },
        depth + 1,
      );
    }
    return (
      eventBridgeEvent(json) ??
      s3Notification(json) ??
      rdsEvent(json) ??
      autoScalingNotification(json) ??
      codeDeployTrigger(json)
    );
  }
  if (json !== undefined) return undefined;
  const body = input.body.slice(0, SCAN_LIMIT);
  return budgetNotification(input.subject, body) ?? backupNotification(input.subject, body) ?? rdsText(body);
}

/**
 * The severity to page at: SERVICE_SEVERITIES `service:kind`, then `service:outcome`, then `service`, then the
 * notification's own.
 */
export function serviceSeverity(
  notification: ServiceNotification,
  overrides: ServiceSeverities = {},
): Severity {
  const keys = [
    `${notification.service}:${notification.kind}`,
    `${notification.service}:${notification.outcome}`,
    notification.service,
  ].map((key) => key.toLowerCase());
  for (const key of keys) {
    if (Object.prototype.hasOwnProperty.call(overrides, key)) {
      const severity = overrides[key];
      if (severity !== undefined) return severity;
    }
  }
  return notification.severity;
}

export class ServiceSeveritiesError extends Error {
  override readonly name = 'ServiceSeveritiesError';
}

/**
 * Reads SERVICE_SEVERITIES: a JSON object `{ "<service>[:<kind or outcome>]": "<severity>" }`, e.g.
 * `{"guardduty:high":"error","budgets":"warning","rds:RDS-EVENT-0004":"critical"}`. Unset or blank → `{}`.
 * Throws naming the entry when the service is unknown or the severity is not one of PagerDuty's four.
 */
export function parseServiceSeverities(json: string | undefined): ServiceSeverities {
  if (json === undefined || json.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new ServiceSeveritiesError(
      `is not JSON (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  if (!isRecord(parsed)) {
    throw new ServiceSeveritiesError('must be a JSON object of "service" or "service:kind" → severity');
  }
  const result: Record<string, Severity> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const service = key.split(':', 1)[0] ?? '';
    if (!SERVICES.some((name) => name === service.toLowerCase())) {
      throw new ServiceSeveritiesError(
        `${JSON.stringify(key)}: ${JSON.stringify(service)} is not a service (${SERVICES.join(', ')})`,
      );
    }
    const severity = SEVERITIES.find((name) => name === value);
    if (severity === undefined) {
      throw new ServiceSeveritiesError(
        `${JSON.stringify(key)}: ${JSON.stringify(value)} is not a severity (${SEVERITIES.join(', ')})`,
      );
    }
    result[key.toLowerCase()] = severity;
  }
  return result;
}

/**
 * The summary line of an SNS message that nothing recognises: its subject and the beginning of its body, e.g.
 * `SNS message: Test — disk full on db-7`. A JSON body is said by what it is (`why`), not by its first bytes.
 */
export function unrecognisedHeadline(input: { subject?: string; body: string; why: string }): string {
  const subject = collapse(input.subject ?? '');
  const looksLikeJson = /^\s*[[{]/.test(input.body);
  const start = looksLikeJson ? withoutTrailingAside(input.why) : collapse(input.body.slice(0, SCAN_LIMIT));
  // Nothing to quote (an empty or missing message): say why, which names what was missing.
  if (subject === '') return `SNS message: ${cutText(start || input.why, MAX_SUMMARY_PART)}`;
  if (start === '' || start === subject) return `SNS message: ${cutText(subject, MAX_SUMMARY_PART)}`;
  return `SNS message: ${cutText(subject, 150)} — ${cutText(start, MAX_SUMMARY_PART)}`;
}

/** `what it is (detail)` → `what it is`: the detail (a parser's message, a key list) stays in the event details. */
function withoutTrailingAside(why: string): string {
  if (!why.endsWith(')')) return why;
  // The parenthesis that opens the final aside, which may nest others (Node 24's JSON errors add "(line 1 column 9)").
  let depth = 0;
  for (let i = why.length - 1; i > 0; i--) {
    if (why[i] === ')') depth++;
    else if (why[i] === '(' && --depth === 0) return why[i - 1] === ' ' ? why.slice(0, i - 1) : why;
  }
  return why;
}

// ---- EventBridge events (forwarded by a rule, or by a CodeStar notification rule as `detailType`) -----------

// CodeStar notification rules send EventBridge's event with `detail-type` renamed `detailType`:
// https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html
interface EventFields {
  readonly source?: string;
  readonly detailType: string;
  readonly account?: string;
  readonly region?: string;
  readonly time?: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
  /** What a CodeStar notification rule adds (`failedActions`, `additionalInformation`). */
  readonly additional: Record<string, unknown>;
}

function eventBridgeEvent(json: Record<string, unknown>): ServiceNotification | undefined {
  const detailType = text(json['detail-type']) ?? text(json.detailType);
  const detail = json.detail;
  if (detailType === undefined || !isRecord(detail)) return undefined;
  const event: EventFields = {
    source: text(json.source),
    detailType,
    account: text(json.account) ?? text(detail.accountId),
    region: text(json.region),
    time: text(json.time),
    resources: Array.isArray(json.resources) ? json.resources.flatMap((r) => text(r) ?? []) : [],
    detail,
    additional: asRecord(json.additionalAttributes),
  };
  const source = event.source ?? '';
  if (detailType === 'GuardDuty Finding') return guardDutyFinding(event);
  if (detailType === 'GuardDuty Malware Protection Object Scan Result') return malwareScan(event);
  if (source === 'aws.health' || detailType === 'AWS Health Event') return healthEvent(event);
  if (source === 'aws.codepipeline' || detailType.startsWith('CodePipeline '))
    return codePipelineEvent(event);
  if (source === 'aws.codedeploy' && text(detail.deploymentId)) return codeDeployEvent(event);
  if (source === 'aws.autoscaling' && text(detail.AutoScalingGroupName)) return autoScalingEvent(event);
  return genericEvent(event);
}

// Severity levels of GuardDuty findings: Critical 9.0–10.0, High 7.0–8.9, Medium 4.0–6.9, Low 1.0–3.9.
// https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html
// Paged as: Critical and High → critical, Medium → warning, Low → info.
export function guardDutyLevel(score: number): { level: string; severity: Severity } {
  if (score >= 9) return { level: 'critical', severity: 'critical' };
  if (score >= 7) return { level: 'high', severity: 'critical' };
  if (score >= 4) return { level: 'medium', severity: 'warning' };
  return { level: 'low', severity: 'info' };
}

function guardDutyFinding(e: EventFields): ServiceNotification {
  const d = lowerKeys(e.detail);
  const score = Number(d.severity);
  const { level, severity } = Number.isFinite(score)
    ? guardDutyLevel(score)
    : { level: 'unknown', severity: 'error' as const };
  const title = text(d.title) ?? text(d.description) ?? 'a finding';
  const type = text(d.type);
  const region = text(d.region) ?? e.region;
  const account = text(d.accountid) ?? e.account;
  const id = text(d.id);
  const resource = lowerKeys(d.resource);
  const resourceType = text(resource.resourcetype);
  const consoleHost = consoleHostOf(region);
  return {
    service: 'guardduty',
    kind: level,
    outcome: 'finding',
    summary: `GuardDuty finding (severity ${Number.isFinite(score) ? String(score) : '?'}, ${level}): ${cut(title)}${type ? ` — ${type}` : ''}${where(region, account)}`,
    severity,
    source: text(d.arn) ?? `guardduty:${region ?? 'unknown-region'}:${account ?? 'unknown-account'}`,
    component: instanceIdOf(resource) ?? resourceType,
    class: type ?? 'GuardDuty Finding',
    details: compact({
      finding_title: title,
      finding_type: type,
      finding_severity: Number.isFinite(score) ? score : d.severity,
      severity_level: level,
      description: text(d.description),
      finding_id: id,
      finding_arn: text(d.arn),
      resource_type: resourceType,
      account,
      region,
      detail: e.detail,
    }),
    links:
      id && region && consoleHost
        ? [
            {
              href: `https://${consoleHost}/guardduty/home?region=${region}#/findings?search=id%3D${encodeURIComponent(id)}`,
              text: 'GuardDuty finding',
            },
          ]
        : undefined,
  };
}

// One of the events GuardDuty sends to EventBridge: https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-guardduty.html
// Threats found is paged like a High finding (critical); a clean or failed scan is information.
function malwareScan(e: EventFields): ServiceNotification {
  const d = e.detail;
  const object = isRecord(d.s3ObjectDetails) ? d.s3ObjectDetails : {};
  const result = isRecord(d.scanResultDetails) ? d.scanResultDetails : {};
  const status = text(result.scanResultStatus) ?? text(d.scanStatus) ?? 'UNKNOWN';
  const threats = Array.isArray(result.threats)
    ? result.threats.flatMap((threat) => (isRecord(threat) ? (text(threat.name) ?? []) : []))
    : [];
  const bucket = text(object.bucketName);
  const key = text(object.objectKey);
  const found = status === 'THREATS_FOUND';
  return {
    service: 'guardduty',
    kind: status.toLowerCase(),
    outcome: 'finding',
    summary: `GuardDuty malware scan: ${status}${threats.length > 0 ? ` (${listed(threats)})` : ''} in s3://${cut(`${bucket ?? '?'}/${key ?? '?'}`, 200)}${where(e.region, e.account)}`,
    severity: found ? 'critical' : 'info',
    source: bucket ? `arn:aws:s3:::${bucket}` : (e.resources[0] ?? 'guardduty:malware-protection'),
    component: bucket,
    class: e.detailType,
    details: compact({
      scan_status: text(d.scanStatus),
      scan_result: status,
      threats: threats.length > 0 ? threats : undefined,
      bucket,
      object_key: key,
      account: e.account,
      region: e.region,
      detail: e.detail,
    }),
  };
}

function instanceIdOf(resource: Record<string, unknown>): string | undefined {
  const instance = lowerKeys(resource.instancedetails);
  return text(instance.instanceid);
}

// AWS Health event categories: issue, accountNotification, scheduledChange, investigation.
// https://docs.aws.amazon.com/health/latest/ug/aws-health-concepts-and-terms.html
function healthEvent(e: EventFields): ServiceNotification {
  const d = e.detail;
  const category = text(d.eventTypeCategory) ?? 'event';
  const code = text(d.eventTypeCode) ?? e.detailType;
  const status = text(d.statusCode);
  const service = text(d.service);
  const entities = Array.isArray(d.affectedEntities)
    ? d.affectedEntities.flatMap((entity) => (isRecord(entity) ? (text(entity.entityValue) ?? []) : []))
    : [];
  const affected = entities.length > 0 ? entities : e.resources;
  const outcome: Outcome =
    status === 'closed'
      ? 'success'
      : category === 'issue'
        ? 'failure'
        : category === 'accountNotification'
          ? 'info'
          : 'warning';
  const description = Array.isArray(d.eventDescription)
    ? d.eventDescription.flatMap((entry) => (isRecord(entry) ? (text(entry.latestDescription) ?? []) : []))[0]
    : undefined;
  return {
    service: 'health',
    kind: category,
    outcome,
    summary: `AWS Health: ${service ? `${service} ` : ''}${category} ${code}${status ? ` (${status})` : ''}${affected.length > 0 ? ` affecting ${listed(affected)}` : ''}${where(e.region, e.account)}`,
    severity: SEVERITY_BY_OUTCOME[outcome as Exclude<Outcome, 'finding'>],
    source: text(d.eventArn) ?? `health:${e.region ?? 'global'}:${e.account ?? 'unknown-account'}`,
    component: affected[0],
    class: code,
    details: compact({
      event_type_code: code,
      event_type_category: category,
      status_code: status,
      affected_service: service,
      start_time: text(d.startTime),
      end_time: text(d.endTime),
      description,
      affected_entities: affected.length > 0 ? affected : undefined,
      account: e.account,
      region: e.region,
      detail: e.detail,
    }),
  };
}

function codePipelineEvent(e: EventFields): ServiceNotification {
  const d = e.detail;
  const pipeline = text(d.pipeline) ?? 'pipeline';
  const state = text(d.state) ?? 'UNKNOWN';
  const stage = text(d.stage);
  const action = text(d.action);
  const executionId = text(d['execution-id']);
  const result = isRecord(d['execution-result']) ? d['execution-result'] : {};
  const failedActions = Array.isArray(e.additional.failedActions)
    ? e.additional.failedActions.flatMap((a) => (isRecord(a) ? (text(a.additionalInformation) ?? []) : []))
    : [];
  const why =
    text(result['external-execution-summary']) ??
    text(e.additional.additionalInformation) ??
    (failedActions.length > 0 ? listed(failedActions) : undefined);
  const what = action
    ? `action ${action} in stage ${stage ?? '?'}`
    : stage
      ? `stage ${stage}`
      : 'pipeline execution';
  const outcome = outcomeOfState(state);
  const url = text(result['external-execution-url']);
  return {
    service: 'codepipeline',
    kind: state.toLowerCase(),
    outcome,
    summary: `CodePipeline ${pipeline}: ${what} ${state}${why && outcome === 'failure' ? ` — ${cut(why)}` : ''}${where(e.region, e.account)}`,
    severity: SEVERITY_BY_OUTCOME[outcome as Exclude<Outcome, 'finding'>],
    source: e.resources[0] ?? `codepipeline:${e.region ?? 'unknown-region'}:${pipeline}`,
    component: pipeline,
    class: e.detailType,
    details: compact({
      pipeline,
      state,
      stage,
      action,
      execution_id: executionId,
      execution_summary: why,
      failed_actions: failedActions.length > 0 ? failedActions : undefined,
      account: e.account,
      region: e.region,
      time: e.time,
      detail: e.detail,
    }),
    links:
      url && /^https:\/\//.test(url)
        ? [{ href: url, text: action ? `${action} execution` : 'Execution' }]
        : undefined,
  };
}

function codeDeployEvent(e: EventFields): ServiceNotification {
  const d = e.detail;
  return codeDeploy({
    application: text(d.application),
    group: text(d.deploymentGroup),
    deploymentId: text(d.deploymentId) ?? '?',
    status: text(d.state) ?? 'UNKNOWN',
    region: text(d.region) ?? e.region,
    account: e.account,
    errorCode: undefined,
    errorMessage: undefined,
    detailType: e.detailType,
    raw: d,
  });
}

function autoScalingEvent(e: EventFields): ServiceNotification {
  return autoScaling(e.detail, e.region ?? regionOfArn(e.resources[0]), e.account, e.detailType);
}

function genericEvent(e: EventFields): ServiceNotification {
  const d = e.detail;
  const state = stateOf(d);
  const resource = e.resources[0] ?? text(d['instance-id']) ?? text(d.resourceArn) ?? text(d.SourceArn);
  const shown = resource === undefined ? undefined : shortArn(resource);
  const message = text(d.Message) ?? text(d.message) ?? text(d.description);
  const failed = /fail|unsuccessful|error|unhealthy/i.test(e.detailType);
  const outcome: Outcome = failed ? 'failure' : state === undefined ? 'warning' : outcomeOfState(state);
  const source = e.source ?? 'unknown source';
  return {
    service: 'eventbridge',
    kind: (e.source ?? 'unknown').toLowerCase(),
    outcome,
    summary: `EventBridge ${source} ${JSON.stringify(e.detailType)}${shown ? ` for ${cut(shown, 120)}` : ''}${state ? `: ${cut(state, 60)}` : ''}${message ? ` — ${cut(message, 200)}` : ''}${where(e.region, e.account)}`,
    severity: SEVERITY_BY_OUTCOME[outcome as Exclude<Outcome, 'finding'>],
    source: resource ?? `${source}:${e.region ?? 'unknown-region'}:${e.account ?? 'unknown-account'}`,
    component: shown,
    class: e.detailType,
    details: compact({
      event_source: e.source,
      detail_type: e.detailType,
      resources: e.resources.length > 0 ? e.resources : undefined,
      state,
      account: e.account,
      region: e.region,
      time: e.time,
      detail: e.detail,
    }),
  };
}

const STATE_FIELDS = [
  'state',
  'status',
  'State',
  'Status',
  'lastStatus',
  'currentState',
  'scanStatus',
  'eventStatus',
];

function stateOf(detail: Record<string, unknown>): string | undefined {
  for (const name of STATE_FIELDS) {
    const value = detail[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    // CloudWatch alarm state change events carry `state: { value, reason }`.
    if (isRecord(value) && typeof value.value === 'string') return value.value;
  }
  return undefined;
}

const FAILURE_STATES =
  /^(failed|failure|error|errored|aborted|timed[_ ]?out|unhealthy|alarm|impaired|unsuccessful|stopped_with_error)$/i;
const SUCCESS_STATES =
  /^(succeeded|success|successful|completed|complete|healthy|ok|available|running|resolved|closed)$/i;

function outcomeOfState(state: string): Exclude<Outcome, 'finding' | 'test'> {
  if (FAILURE_STATES.test(state)) return 'failure';
  if (SUCCESS_STATES.test(state)) return 'success';
  if (/^(canceled|cancelled|stopped|superseded|stopping|expired)$/i.test(state)) return 'warning';
  return 'info';
}

// ---- S3 -----------------------------------------------------------------------------------------------------

// The test message S3 sends when a notification configuration is saved, and the event message structure:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
function s3Notification(json: Record<string, unknown>): ServiceNotification | undefined {
  if (json.Event === 's3:TestEvent') {
    const bucket = text(json.Bucket) ?? 'a bucket';
    return {
      service: 's3',
      kind: 'test',
      outcome: 'test',
      summary: `S3 test event for bucket ${bucket}: the bucket's event notifications reach this topic`,
      severity: 'info',
      source: `arn:aws:s3:::${bucket}`,
      component: bucket,
      class: 's3:TestEvent',
      details: compact({
        bucket,
        time: text(json.Time),
        request_id: text(json.RequestId),
        host_id: text(json.HostId),
      }),
    };
  }
  if (!Array.isArray(json.Records)) return undefined;
  const records = json.Records.filter(
    (r): r is Record<string, unknown> => isRecord(r) && r.eventSource === 'aws:s3',
  );
  const first = records[0];
  if (first === undefined) return undefined;
  const s3 = isRecord(first.s3) ? first.s3 : {};
  const bucket = (isRecord(s3.bucket) && text(s3.bucket.name)) || 'bucket';
  const object = isRecord(s3.object) ? s3.object : {};
  const key = decodeS3Key(text(object.key));
  const size = typeof object.size === 'number' ? object.size : undefined;
  const eventName = text(first.eventName) ?? 'event';
  const region = text(first.awsRegion);
  const outcome: Outcome = /lost|failed/i.test(eventName) ? 'failure' : 'info';
  const more = records.length > 1 ? ` (+${records.length - 1} more)` : '';
  return {
    service: 's3',
    kind: eventName.split(':', 1)[0]?.toLowerCase() ?? 'event',
    outcome,
    summary: `S3 ${eventName}: ${cut(`${bucket}/${key ?? ''}`, 200)}${size === undefined ? '' : ` (${size} bytes)`}${more}${region ? ` in ${region}` : ''}`,
    severity: SEVERITY_BY_OUTCOME[outcome],
    source: `arn:aws:s3:::${bucket}`,
    component: bucket,
    class: eventName,
    details: compact({
      event_name: eventName,
      bucket,
      object_key: key,
      object_size: size,
      region,
      event_time: text(first.eventTime),
      records: records.length,
    }),
  };
}

// ---- RDS ----------------------------------------------------------------------------------------------------

// RDS event subscriptions publish JSON with spaced keys ("Event Source", "Event Message", "Source ID", "Event ID"):
// https://docs.aws.amazon.com/lambda/latest/dg/services-rds.html
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html
function rdsEvent(json: Record<string, unknown>): ServiceNotification | undefined {
  const message = text(json['Event Message']);
  const sourceId = text(json['Source ID']);
  if (message === undefined || (sourceId === undefined && json['Event Source'] === undefined))
    return undefined;
  const sourceType = text(json['Event Source']) ?? 'rds';
  const eventId = /RDS-EVENT-\d+/.exec(text(json['Event ID']) ?? '')?.[0];
  const sourceArn = text(json['Source ARN']);
  const link = text(json['Identifier Link']);
  const region = regionOfArn(sourceArn) ?? /[?&]region=([a-z0-9-]+)/.exec(link ?? '')?.[1];
  const outcome = rdsOutcome(message);
  return {
    service: 'rds',
    kind: eventId ?? sourceType,
    outcome,
    summary: `RDS ${sourceType} ${sourceId ?? '?'}: ${cut(message)}${eventId ? ` (${eventId})` : ''}${region ? ` in ${region}` : ''}`,
    severity: SEVERITY_BY_OUTCOME[outcome],
    source: sourceArn ?? `rds:${region ?? 'unknown-region'}:${sourceType}:${sourceId ?? '?'}`,
    component: sourceId,
    class: eventId ?? 'RDS event',
    details: compact({
      event_source: sourceType,
      event_message: message,
      source_id: sourceId,
      source_arn: sourceArn,
      event_id: eventId,
      event_time: text(json['Event Time']),
      tags: isRecord(json.Tags) ? json.Tags : undefined,
    }),
    links:
      link && /^https:\/\//.test(link)
        ? [{ href: link, text: `RDS ${sourceType} ${sourceId ?? ''}`.trim() }]
        : undefined,
  };
}

// The event message says what happened; RDS puts no category in the SNS message, so the words decide.
function rdsOutcome(message: string): Exclude<Outcome, 'finding' | 'test'> {
  const m = message.slice(0, SCAN_LIMIT);
  if (
    /\b(fail|failed|failure|error|incompatible|unable|could not|cannot|storage-full|low storage|insufficient|unrecoverable|inaccessible)\b/i.test(
      m,
    )
  )
    return 'failure';
  if (
    /\b(shut ?down|stopped|stopping|restart|restarted|reboot|rebooted|rebooting|failover|recovery|maintenance|deleted)\b/i.test(
      m,
    )
  )
    return 'warning';
  if (/\b(finished|completed|complete|created|started|available|succeeded)\b/i.test(m)) return 'success';
  return 'info';
}

// The first message an RDS subscription sends is prose, not JSON (see the Lambda guide's note above).
function rdsText(body: string): ServiceNotification | undefined {
  if (!/^\s*This is a message to notify that RDS will attempt to send you event notifications/i.test(body))
    return undefined;
  const sourceType = /notifications of type ([A-Za-z-]+)/.exec(body)?.[1];
  return {
    service: 'rds',
    kind: 'subscription',
    outcome: 'test',
    summary: `RDS event subscription ${sourceType ? `for ${sourceType} ` : ''}now sends its events to this topic`,
    severity: 'info',
    source: 'rds:event-subscription',
    class: 'RDS event subscription',
    details: compact({ source_type: sourceType, message: body }),
  };
}

// ---- Auto Scaling -------------------------------------------------------------------------------------------

// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-sns-notifications.html
function autoScalingNotification(json: Record<string, unknown>): ServiceNotification | undefined {
  if (json.Service !== 'AWS Auto Scaling' || text(json.AutoScalingGroupName) === undefined) return undefined;
  const region = regionOfArn(text(json.AutoScalingGroupARN));
  return autoScaling(json, region, text(json.AccountId), undefined);
}

function autoScaling(
  d: Record<string, unknown>,
  region: string | undefined,
  account: string | undefined,
  detailType: string | undefined,
): ServiceNotification {
  const group = text(d.AutoScalingGroupName) ?? '?';
  const event = text(d.Event) ?? text(d.LifecycleTransition) ?? detailType ?? 'event';
  const statusCode = text(d.StatusCode);
  const description = text(d.Description);
  const statusMessage = text(d.StatusMessage);
  const isTest = event === 'autoscaling:TEST_NOTIFICATION';
  const failed =
    /_ERROR$/.test(event) ||
    /unsuccessful/i.test(detailType ?? '') ||
    /^(failed|cancelled)$/i.test(statusCode ?? '');
  const outcome: Outcome = isTest ? 'test' : failed ? 'failure' : 'info';
  const what = isTest
    ? 'test notification: this topic receives the group’s notifications'
    : (description ?? event) +
      (failed && statusMessage && !description?.includes(statusMessage) ? ` — ${statusMessage}` : '');
  return {
    service: 'autoscaling',
    kind: event,
    outcome,
    summary: `Auto Scaling group ${cut(group, 150)}: ${cut(what)}${where(region, account)}`,
    severity: SEVERITY_BY_OUTCOME[outcome],
    source: text(d.AutoScalingGroupARN) ?? `autoscaling:${region ?? 'unknown-region'}:${group}`,
    component: text(d.EC2InstanceId) ?? group,
    class: detailType ?? event,
    details: compact({
      auto_scaling_group: group,
      event,
      status_code: statusCode,
      status_message: statusMessage,
      description,
      cause: text(d.Cause),
      instance_id: text(d.EC2InstanceId),
      activity_id: text(d.ActivityId),
      start_time: text(d.StartTime),
      end_time: text(d.EndTime),
      account,
      region,
    }),
  };
}

// ---- CodeDeploy ---------------------------------------------------------------------------------------------

// Trigger messages (deployment and instance): https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-sns-event-notifications-json-format.html
// Real messages carry deploymentOverview and errorInformation as JSON strings; the guide shows objects. Both read.
function codeDeployTrigger(json: Record<string, unknown>): ServiceNotification | undefined {
  const deploymentId = text(json.deploymentId);
  if (deploymentId === undefined) return undefined;
  const instanceStatus = text(json.instanceStatus);
  if (text(json.deploymentGroupName) === undefined && instanceStatus === undefined) return undefined;
  const error = isRecord(json.errorInformation)
    ? json.errorInformation
    : asRecord(tryParse(text(json.errorInformation)));
  return codeDeploy({
    application: text(json.applicationName),
    group: text(json.deploymentGroupName),
    deploymentId,
    status: text(json.status) ?? instanceStatus ?? 'UNKNOWN',
    region: text(json.region),
    account: text(json.accountId),
    instanceId: text(json.instanceId),
    errorCode: text(error.ErrorCode),
    errorMessage: text(error.ErrorMessage),
    detailType: undefined,
    raw: json,
  });
}

function codeDeploy(c: {
  application?: string;
  group?: string;
  deploymentId: string;
  status: string;
  region?: string;
  account?: string;
  instanceId?: string;
  errorCode?: string;
  errorMessage?: string;
  detailType?: string;
  raw: Record<string, unknown>;
}): ServiceNotification {
  const outcome = outcomeOfState(c.status);
  const target = [c.application, c.group].filter((part) => part !== undefined).join('/') || 'application';
  const error =
    c.errorCode || c.errorMessage
      ? ` — ${cut([c.errorCode, c.errorMessage].filter(Boolean).join(': '))}`
      : '';
  const instance = c.instanceId ? ` on ${shortArn(c.instanceId)}` : '';
  return {
    service: 'codedeploy',
    kind: c.status.toLowerCase(),
    outcome,
    summary: `CodeDeploy ${cut(target, 150)}: deployment ${c.deploymentId}${instance} ${c.status}${error}${where(c.region, c.account)}`,
    severity: SEVERITY_BY_OUTCOME[outcome],
    source: c.instanceId ?? `codedeploy:${c.region ?? 'unknown-region'}:${target}`,
    component: c.application,
    class: c.detailType ?? (c.instanceId ? 'CodeDeploy instance trigger' : 'CodeDeploy deployment trigger'),
    details: compact({
      application: c.application,
      deployment_group: c.group,
      deployment_id: c.deploymentId,
      status: c.status,
      instance_id: c.instanceId,
      error_code: c.errorCode,
      error_message: c.errorMessage,
      account: c.account,
      region: c.region,
      message: c.raw,
    }),
  };
}

// ---- AWS Budgets (plain text) -------------------------------------------------------------------------------

// Budgets publishes prose: "AWS Budget Notification <date>\nAWS Account <id>\n…\nBudget Name: …\nAlert Type: …".
function budgetNotification(subject: string | undefined, body: string): ServiceNotification | undefined {
  if (!/^\s*AWS Budget Notification\b/.test(body) && !/^AWS Budgets:/.test(subject ?? '')) return undefined;
  const fields = labelledLines(body);
  const name = fields.get('budget name') ?? /^AWS Budgets: (.+?) has exceeded/.exec(subject ?? '')?.[1];
  const alertType = fields.get('alert type')?.toUpperCase();
  const amount = alertType ? fields.get(`${alertType.toLowerCase()} amount`) : undefined;
  const threshold = fields.get('alert threshold');
  const budgeted = fields.get('budgeted amount');
  const account = /^\s*AWS Account (\S+)/m.exec(body)?.[1];
  const outcome: Outcome = alertType === 'FORECASTED' ? 'info' : 'warning';
  const what =
    alertType && amount && threshold
      ? `${alertType} cost ${amount} is over the alert threshold ${threshold.replace(/^>\s*/, '')}${budgeted ? ` (budgeted ${budgeted})` : ''}`
      : collapse(
          /You requested that we alert you[^.]*\./.exec(body)?.[0] ?? subject ?? 'alert threshold exceeded',
        );
  return {
    service: 'budgets',
    kind: (alertType ?? 'alert').toLowerCase(),
    outcome,
    summary: `AWS Budgets: budget ${JSON.stringify(cut(name ?? '?', 150))} ${cut(what)}${account ? ` in account ${account}` : ''}`,
    severity: SEVERITY_BY_OUTCOME[outcome],
    source: `budgets:${account ?? 'unknown-account'}:${name ?? '?'}`,
    component: name,
    class: `AWS Budgets ${alertType ?? 'alert'}`,
    details: compact({
      budget_name: name,
      budget_type: fields.get('budget type'),
      budgeted_amount: budgeted,
      alert_type: alertType,
      alert_threshold: threshold,
      amount,
      account,
    }),
    links: [{ href: 'https://console.aws.amazon.com/billing/home#/budgets', text: 'AWS Budgets dashboard' }],
  };
}

// ---- AWS Backup (plain text) --------------------------------------------------------------------------------

// Vault notifications: "An AWS Backup job failed. Resource ARN : arn:…. BackupJob ID : …", subject
// "Notification from AWS Backup": https://docs.aws.amazon.com/aws-backup/latest/devguide/backup-notifications.html
function backupNotification(subject: string | undefined, body: string): ServiceNotification | undefined {
  const fromBackup =
    subject === 'Notification from AWS Backup' ||
    /^\s*An AWS (Backup|Copy|Restore)\b[^.]{0,80}\bjob\b/.test(body) ||
    /from your Amazon EKS Backup\./.test(body);
  if (!fromBackup) return undefined;
  const what = collapse(/^[^.]*/.exec(body)?.[0] ?? body) || 'AWS Backup notification';
  const resource =
    labelled(body, 'Backed up Resource ARN') ??
    labelled(body, 'Resource ARN') ??
    labelled(body, 'Indexed recovery point arn') ??
    labelled(body, 'Resource');
  const jobId =
    labelled(body, 'BackupJob ID') ??
    labelled(body, 'Backup Job Id') ??
    labelled(body, 'Copy Job Id') ??
    labelled(body, 'RestoreJob ID');
  const recoveryPoint = labelled(body, 'Recovery point ARN');
  const outcome: Outcome = /\b(failed|aborted|expired|could not|failed to complete)\b/i.test(what)
    ? 'failure'
    : /\bskipped\b/i.test(what)
      ? 'warning'
      : /\b(successfully|successful|completed|was completed)\b/i.test(what)
        ? 'success'
        : 'info';
  const jobKind = /\bcopy\b/i.test(what) ? 'copy' : /\brestore\b/i.test(what) ? 'restore' : 'backup';
  const region = regionOfArn(resource);
  return {
    service: 'backup',
    kind: `${jobKind}:${outcome}`,
    outcome,
    summary: `AWS Backup: ${cut(what, 200)}${resource ? ` — ${cut(shortArn(resource), 150)}` : ''}${jobId ? ` (job ${jobId})` : ''}${region ? ` in ${region}` : ''}`,
    severity: SEVERITY_BY_OUTCOME[outcome],
    source: resource ?? `backup:${jobId ?? 'unknown-job'}`,
    component: resource === undefined ? undefined : shortArn(resource),
    class: `AWS Backup ${jobKind} job`,
    details: compact({
      job_kind: jobKind,
      job_id: jobId,
      resource_arn: resource,
      recovery_point_arn: recoveryPoint,
      message: body,
    }),
  };
}

/** `Label : value.` or `Label: value` inside Backup's one-line prose; the value ends at `. ` or the end. */
function labelled(body: string, label: string): string | undefined {
  const at = body.indexOf(`${label} :`) >= 0 ? body.indexOf(`${label} :`) : body.indexOf(`${label}:`);
  if (at < 0) return undefined;
  const rest = body.slice(at + label.length).replace(/^\s*:\s*/, '');
  const end = rest.search(/\.(\s|$)/);
  const value = (end >= 0 ? rest.slice(0, end) : rest).trim();
  return value === '' ? undefined : value;
}

/** `Name: value` lines, keyed by the lower-cased name. */
function labelledLines(body: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of body.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || colon > 40) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name !== '' && value !== '' && !fields.has(name)) fields.set(name, value);
  }
  return fields;
}

// ---- helpers ------------------------------------------------------------------------------------------------

/** S3 URL-encodes object keys in event messages, a space as `+`. */
function decodeS3Key(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

function where(region: string | undefined, account: string | undefined): string {
  if (region && account) return ` in ${region} (${account})`;
  if (region) return ` in ${region}`;
  if (account) return ` (${account})`;
  return '';
}

function listed(items: readonly string[]): string {
  const shown = items.slice(0, 3).map((item) => cut(item, 64));
  return shown.join(', ') + (items.length > 3 ? ` and ${items.length - 3} more` : '');
}

/** `arn:aws:ec2:us-east-1:123:instance/i-1` → `instance/i-1`; anything else as it is. */
function shortArn(value: string): string {
  if (!value.startsWith('arn:')) return value;
  const parts = value.split(':');
  return parts.length >= 6 ? parts.slice(5).join(':') : value;
}

function regionOfArn(arn: string | undefined): string | undefined {
  if (arn === undefined || !arn.startsWith('arn:')) return undefined;
  const region = arn.split(':')[3];
  return region && isRegionCode(region) ? region : undefined;
}

function consoleHostOf(region: string | undefined): string | undefined {
  return region !== undefined && isRegionCode(region) ? consoleHostFor(region) : undefined;
}

function cut(value: string, max = MAX_SUMMARY_PART): string {
  // Collapsing whitespace only shortens: a prefix four times as long is enough, and keeps this cheap on megabytes.
  return cutText(collapse(value.slice(0, max * 4)), max);
}

function collapse(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/** The object with lower-cased keys: GuardDuty's detail arrives camelCase from EventBridge, PascalCase from the API. */
function lowerKeys(value: unknown): Record<string, unknown> {
  return isRecord(value)
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]))
    : {};
}

function tryParse(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

function compact<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}
