// The sweep's decisions, pure: what CloudWatch answered (and when it was asked) and what the ledger holds in,
// corrections out. No clock, no network: the runner (sweep.ts) gathers the observations and delivers the result.
import { SETTING_TAGS, type InsufficientDataPolicy } from '../shared/contract';
import {
  declaredForAlarm,
  insufficientDataPolicyOf,
  type DeclaredSettingsMap,
} from '../pipeline/alarm-settings';
import { CONTRIBUTOR_MARK, fitDedupKey } from '../pipeline/dedup-key';
import type { LedgerEntry, OpenIncident } from '../pipeline/ledger';
import type { Observed, ObservedAlarm, ObservedContributor } from './observations';

/** What marks an alarm of a source as wired to this pipeline (mirrors the intakes' selection). */
export interface SourceSelection {
  readonly topicArns: readonly string[];
  readonly alarmNamePrefixes: readonly string[];
  readonly routeTagged: boolean;
}

export interface SweepSettings {
  /** An alarm that changed state less than this before the observation is left to its notification in flight. */
  readonly missedGraceMs: number;
  /** ALARM_SETTINGS and INSUFFICIENT_DATA_POLICY: with an alarm's tags, its INSUFFICIENT_DATA policy, as the handler's. */
  readonly declared: DeclaredSettingsMap;
  readonly insufficientDataPolicy: InsufficientDataPolicy;
}

/** Everything one source's sweep has seen. Absent answers were not asked or failed: they decide nothing. */
export interface SourceObservations {
  readonly selection: SourceSelection;
  /** DescribeAlarms StateValue=ALARM, every page (T1). */
  readonly inAlarm: Observed<readonly ObservedAlarm[]>;
  /** DescribeAlarms StateValue=INSUFFICIENT_DATA, every page; absent when that read failed. */
  readonly insufficientData?: Observed<readonly ObservedAlarm[]>;
  readonly openIncidents: readonly OpenIncident[];
  /** DescribeAlarms by name for `namesToConfirm` (T2): per name asked and answered, the alarm or `undefined` (absent). */
  readonly byName: ReadonlyMap<string, Observed<ObservedAlarm | undefined>>;
  /** DescribeAlarmContributors per multi-time-series alarm ARN (each with its own observation time). */
  readonly contributors: ReadonlyMap<string, Observed<readonly ObservedContributor[]>>;
  /** Alarm names an ACTIVE mute rule mutes; `unknown` when that read failed; absent until read. */
  readonly muted?: ReadonlySet<string> | 'unknown';
  /** Tags of page candidates, by alarm ARN (empty when the read failed). */
  readonly tags?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** A consistent ledger read of each page candidate's dedup key (the index may lag). */
  readonly ledger?: ReadonlyMap<string, LedgerEntry | undefined>;
}

export type ResolveReason = 'ok' | 'deleted' | 'insufficient-data';

export interface ResolveCorrection {
  readonly kind: 'resolve';
  readonly reason: ResolveReason;
  readonly dedupKey: string;
  readonly incident: OpenIncident;
  /** The clock read before the request whose answer this acts on: the correction's ordering time. */
  readonly observedMs: number;
  /** An alarm deletion event's resolve: held against claims ordered at a cap until then (`Claim.deletedUntilMs`). */
  readonly deletedUntilMs?: number;
}

export interface PageCorrection {
  readonly kind: 'page';
  readonly reason: 'missed' | 'repage';
  readonly dedupKey: string;
  readonly alarm: ObservedAlarm;
  readonly contributor?: ObservedContributor;
  readonly observedMs: number;
  /** The alarm's tags, once read (they set the page's route and severity). */
  readonly tags?: Readonly<Record<string, string>>;
}

export type Correction = ResolveCorrection | PageCorrection;

export interface SweepPlan {
  readonly corrections: readonly Correction[];
  /** Pages that need the mute rules, tags or a consistent ledger read before they can be decided. */
  readonly candidates: readonly PageCorrection[];
  /** Pages deliberately not sent, and why (for the log). */
  readonly withheld: readonly { readonly dedupKey: string; readonly why: string }[];
}

/** Alarms of open incidents that neither the ALARM nor the INSUFFICIENT_DATA answer lists: to ask about by name (T2). */
export function namesToConfirm(
  inAlarm: readonly ObservedAlarm[],
  openIncidents: readonly OpenIncident[],
  insufficientData: readonly ObservedAlarm[] = [],
): string[] {
  const listed = new Set([...inAlarm, ...insufficientData].map((alarm) => alarm.arn));
  return [...new Set(openIncidents.filter((i) => !listed.has(i.alarmArn)).map((i) => i.alarmName))];
}

/** Multi-time-series alarms in ALARM in either answer: their contributors are read one alarm at a time. */
export function alarmsWithContributors(
  inAlarm: readonly ObservedAlarm[],
  byName: SourceObservations['byName'],
): ObservedAlarm[] {
  const later = [...byName.values()].flatMap(({ value }) => (value ? [value] : []));
  const found = new Map<string, ObservedAlarm>();
  for (const alarm of [...inAlarm, ...later]) {
    if (alarm.multiSeries && alarm.state === 'ALARM') found.set(alarm.arn, alarm);
  }
  return [...found.values()];
}

export function pageKey(alarm: ObservedAlarm, contributor?: ObservedContributor): string {
  return fitDedupKey(contributor ? `${alarm.arn}${CONTRIBUTOR_MARK}${contributor.id}` : alarm.arn);
}

/**
 * One source's corrections. Resolves: an open incident whose alarm (or contributor) a successful answer shows not
 * in ALARM (OK; absent = deleted; INSUFFICIENT_DATA when its policy resolves). Pages: a wired alarm (or
 * contributor) in ALARM, or in INSUFFICIENT_DATA under a `trigger` policy, for longer than the grace, not
 * suppressed or muted, with no trigger in the ledger; and an opt-in re-page when the last trigger is older than the
 * interval.
 */
export function planSweep(obs: SourceObservations, settings: SweepSettings): SweepPlan {
  const corrections: Correction[] = [];
  const withheld: { dedupKey: string; why: string }[] = [];
  const pages = [...checkOpenIncidents(obs, corrections), ...missedPages(obs)];
  // A trigger PagerDuty never received opens nothing: the sweep pages it (its own failed page has no retry queue).
  const openTriggers = new Set(
    obs.openIncidents.filter((i) => i.action === 'trigger' && i.delivered).map((i) => i.dedupKey),
  );
  const candidates: PageCorrection[] = [];
  for (const page of pages) {
    const verdict = pageVerdict(page, obs, settings, openTriggers);
    if (verdict === 'page') corrections.push({ ...page, tags: obs.tags?.get(page.alarm.arn) ?? {} });
    else if (verdict === 'undecided') candidates.push(page);
    else if (verdict !== 'nothing') withheld.push({ dedupKey: page.dedupKey, why: verdict });
  }
  return { corrections, candidates, withheld };
}

/** Resolves (pushed to `corrections`) for open incidents no longer in ALARM; re-pages (returned) for those still in it. */
function checkOpenIncidents(obs: SourceObservations, corrections: Correction[]): PageCorrection[] {
  const pages: PageCorrection[] = [];
  const inAlarm = new Map(obs.inAlarm.value.map((alarm) => [alarm.arn, alarm]));
  const insufficient = new Map((obs.insufficientData?.value ?? []).map((alarm) => [alarm.arn, alarm]));
  for (const incident of obs.openIncidents) {
    const resolve = (reason: ResolveReason, observedMs: number) =>
      corrections.push({ kind: 'resolve', reason, dedupKey: incident.dedupKey, incident, observedMs });
    const atT1 = inAlarm.get(incident.alarmArn);
    const listedInsufficient = insufficient.get(incident.alarmArn);
    const later: Observed<ObservedAlarm | undefined> | undefined = listedInsufficient
      ? { observedMs: obs.insufficientData!.observedMs, value: listedInsufficient }
      : obs.byName.get(incident.alarmName);
    const laterAlarm = later?.value?.arn === incident.alarmArn ? later.value : undefined;
    const alarming = atT1 ?? (laterAlarm?.state === 'ALARM' ? laterAlarm : undefined);
    if (alarming && incident.contributorId !== undefined) {
      const listed = obs.contributors.get(alarming.arn);
      if (!listed) continue; // not read, or the read failed: decides nothing
      const contributor = listed.value.find((c) => c.id === incident.contributorId);
      if (!contributor) resolve('ok', listed.observedMs);
      else if (repageDue(incident, listed.observedMs)) {
        pages.push(repage(incident, alarming, listed.observedMs, contributor));
      }
      continue;
    }
    if (alarming) {
      if (atT1 && repageDue(incident, obs.inAlarm.observedMs)) {
        pages.push(repage(incident, atT1, obs.inAlarm.observedMs));
      }
      continue;
    }
    if (later === undefined) continue; // only a positive answer counts
    if (laterAlarm === undefined) resolve('deleted', later.observedMs);
    else if (laterAlarm.state === 'OK' || incident.contributorId !== undefined)
      resolve('ok', later.observedMs);
    else if (incident.insufficientData === 'resolve') resolve('insufficient-data', later.observedMs);
  }
  return pages;
}

/**
 * Every page a notification would have opened: each alarm in ALARM (a multi-time-series alarm notifies at alarm
 * level too, its own incident, besides one per contributor), and each alarm in INSUFFICIENT_DATA (paged only under
 * a `trigger` policy, decided once its tags are read).
 */
function missedPages(obs: SourceObservations): PageCorrection[] {
  const pages: PageCorrection[] = [];
  for (const alarm of obs.inAlarm.value) {
    if (alarm.state !== 'ALARM') continue;
    pages.push(missed(alarm, obs.inAlarm.observedMs));
    if (!alarm.multiSeries) continue;
    const listed = obs.contributors.get(alarm.arn);
    for (const contributor of listed?.value ?? []) pages.push(missed(alarm, listed!.observedMs, contributor));
  }
  for (const alarm of obs.insufficientData?.value ?? []) {
    if (alarm.state === 'INSUFFICIENT_DATA') pages.push(missed(alarm, obs.insufficientData!.observedMs));
  }
  return pages;
}

function repageDue(incident: OpenIncident, observedMs: number): boolean {
  return (
    incident.action === 'trigger' &&
    incident.delivered &&
    incident.repageMs !== undefined &&
    observedMs - incident.stateChangeMs >= incident.repageMs
  );
}

function repage(
  incident: OpenIncident,
  alarm: ObservedAlarm,
  observedMs: number,
  contributor?: ObservedContributor,
): PageCorrection {
  return { kind: 'page', reason: 'repage', dedupKey: incident.dedupKey, alarm, contributor, observedMs };
}

function missed(alarm: ObservedAlarm, observedMs: number, contributor?: ObservedContributor): PageCorrection {
  return {
    kind: 'page',
    reason: 'missed',
    dedupKey: pageKey(alarm, contributor),
    alarm,
    contributor,
    observedMs,
  };
}

/** `page`, `undecided` (needs more reads), `nothing` (no page is due), or why a due page is withheld. */
function pageVerdict(
  page: PageCorrection,
  obs: SourceObservations,
  settings: SweepSettings,
  openTriggers: ReadonlySet<string>,
): string {
  const { alarm, contributor } = page;
  if (page.reason === 'missed') {
    if (openTriggers.has(page.dedupKey)) return 'nothing';
    const changedMs = contributor?.changedMs ?? alarm.changedMs;
    if (changedMs !== undefined && page.observedMs - changedMs < settings.missedGraceMs) return 'nothing';
    const isWired = wired(alarm, obs.selection, obs.tags?.get(alarm.arn));
    if (isWired === false) return 'nothing';
    if (isWired === 'needs tags') return 'undecided';
    if (alarm.state === 'INSUFFICIENT_DATA') {
      // The handler decides an INSUFFICIENT_DATA by the alarm's policy: tag, then ALARM_SETTINGS, then the default.
      const tags = obs.tags?.get(alarm.arn);
      if (tags === undefined) return 'undecided';
      const declared = declaredForAlarm(settings.declared, alarm.arn, alarm.name);
      if (insufficientDataPolicyOf(tags, declared, settings.insufficientDataPolicy) !== 'trigger')
        return 'nothing';
    }
  }
  if (alarm.suppressedBy !== undefined) return `CloudWatch suppresses its actions (${alarm.suppressedBy})`;
  if (obs.muted === undefined || obs.tags === undefined) return 'undecided';
  // A failed read of the mute rules pages anyway: a lost page is worse than paging through a mute.
  if (obs.muted !== 'unknown' && obs.muted.has(alarm.name)) return 'muted by an active mute rule';
  if (page.reason === 'repage') return 'page';
  if (!obs.ledger?.has(page.dedupKey)) return 'undecided';
  const entry = obs.ledger.get(page.dedupKey);
  return entry?.action === 'trigger' && entry.delivered ? 'nothing' : 'page';
}

function wired(
  alarm: ObservedAlarm,
  selection: SourceSelection,
  tags: Readonly<Record<string, string>> | undefined,
): boolean | 'needs tags' {
  // CloudWatch notifies a change to INSUFFICIENT_DATA through the alarm's INSUFFICIENT_DATA actions only.
  const actions = alarm.state === 'INSUFFICIENT_DATA' ? alarm.insufficientDataActions : alarm.alarmActions;
  if (alarm.actionsEnabled && actions.some((action) => selection.topicArns.includes(action))) return true;
  if (selection.alarmNamePrefixes.some((prefix) => alarm.name.startsWith(prefix))) return true;
  if (!selection.routeTagged) return false;
  if (tags === undefined) return 'needs tags';
  return Object.keys(tags).some((key) => key.toLowerCase() === SETTING_TAGS.route);
}
