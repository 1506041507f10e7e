// The EventBridge corpus (test/corpus-eventbridge): each file an event as AWS documents it (or a variant of one,
// said in its description), where it came from, and exactly what PagerDuty must receive for it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAlarmEvent } from '../../lambda/messages/alarm-event';
import { declaredFor, parseDeclaredSettings, resolveSettings } from '../../lambda/pipeline/alarm-settings';
import { decideAction } from '../../lambda/pipeline/decide';
import { dedupKeyFor } from '../../lambda/pipeline/dedup-key';
import type { Severity } from '../../lambda/messages/notification';
import { buildAlertEvent } from '../../lambda/pagerduty/event';

export interface EventCase {
  readonly description: string;
  /** Where the event's shape comes from: a URL and the example's name, or "Constructed (…)". */
  readonly source: string;
  readonly settings?: {
    environment?: string;
    defaultSeverity?: Severity;
    declared?: Record<string, unknown>;
  };
  readonly event: unknown;
  readonly expect?: {
    readonly type: 'alarm' | 'unrecognised';
    readonly notification?: Record<string, unknown>;
    readonly dedupKey: string;
    readonly decision: { send: boolean; action?: string; reason?: string };
    /** The exact PagerDuty event (without its routing key); absent when nothing is sent. */
    readonly event?: Record<string, unknown>;
  };
}

export const EVENT_CORPUS = join(__dirname, '..', 'corpus-eventbridge');
export const KNOWN_ROUTES = ['default', 'platform', 'payments'];

export function eventCases(): [string, EventCase][] {
  return readdirSync(EVENT_CORPUS)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => [file, JSON.parse(readFileSync(join(EVENT_CORPUS, file), 'utf8')) as EventCase]);
}

/** What the pure pipeline makes of the case's event. */
export function runEventCase(c: EventCase) {
  const notification = parseAlarmEvent(c.event);
  const declared = parseDeclaredSettings(
    c.settings?.declared ? JSON.stringify(c.settings.declared) : undefined,
  );
  const settings = resolveSettings({
    tags: notification.type === 'alarm' ? notification.tags : {},
    declared: declaredFor(declared, notification),
    defaults: {
      route: 'default',
      severity: c.settings?.defaultSeverity ?? 'critical',
      insufficientData: 'ignore',
      environment: c.settings?.environment,
    },
    knownRoutes: KNOWN_ROUTES,
  });
  const decision = decideAction(notification, settings);
  const dedupKey = dedupKeyFor(notification);
  const event = decision.send
    ? buildAlertEvent(notification, settings, decision.action, dedupKey, {
        clientName: 'CloudWatch alarm pipeline',
      })
    : undefined;
  return { notification, settings, decision, dedupKey, event };
}
