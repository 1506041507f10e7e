// Decision 15: an intake carries only its own account and region; the central topic also the accounts it lets
// publish. Pure: the carrier and the trust settings are values.
import { parseAlarmArn } from '../messages/alarm-fields';
import type { Notification } from '../messages/notification';
import { isRegionCode, regionCodeFromName } from '../shared/regions';
import { cutText } from '../shared/text';

/** What the handler was told about its intakes (CENTRAL_TOPIC_ARN, PUBLISHER_ACCOUNT_IDS). */
export interface IntakeTrust {
  /** The central topic: it carries the accounts of `publisherAccountIds` too. Unset: no topic carries others. */
  readonly centralTopicArn?: string;
  readonly publisherAccountIds: readonly string[];
}

/** Who delivered a record: the SNS topic (its ARN, set by SNS), or the EventBridge event's account and region. */
export type Carrier =
  | { readonly via: 'sns'; readonly topicArn: string }
  | { readonly via: 'eventbridge'; readonly account: unknown; readonly region: unknown };

/** The accounts and the region a carrier may speak for. */
interface Carries {
  readonly name: string;
  readonly accounts: readonly string[];
  readonly region: string;
}

const TOPIC_ARN = /^arn:[a-z][a-z0-9-]*:sns:([a-z0-9-]+):(\d{12}):[A-Za-z0-9_.-]{1,256}$/;
const ACCOUNT_ID = /^\d{12}$/;

/**
 * Why this notification may not come through this carrier, or undefined when it may. An alarm's every claim
 * (its ARN's account and region, `AWSAccountId`, the message's region) must be what the carrier carries; an
 * AWS service notification that names an account must name a carried one. Other messages name no one: they open
 * an incident of their own, keyed by the topic that delivered them, and can neither resolve nor join another.
 */
export function refusalFor(
  notification: Notification,
  carrier: Carrier,
  trust: IntakeTrust,
): string | undefined {
  const carries = carriesOf(carrier, trust);
  if (typeof carries === 'string') return carries;
  if (notification.type === 'unrecognised') {
    const account = notification.service?.details.account;
    if (typeof account !== 'string' || carries.accounts.includes(account)) return undefined;
    return `the ${notification.service?.service ?? 'service'} notification names account ${cutText(account, 40)}, which ${describe(carries)}`;
  }
  const accounts: [string, string][] = [];
  const regions: [string, string][] = [];
  if (notification.alarmArn !== undefined) {
    const arn = parseAlarmArn(notification.alarmArn);
    if (arn?.accountId === undefined || arn.region === undefined) {
      return `its AlarmArn ${JSON.stringify(cutText(notification.alarmArn, 120))} is not an alarm ARN with an account and a region`;
    }
    accounts.push(['the alarm ARN', arn.accountId]);
    regions.push(['the alarm ARN', arn.region]);
  }
  if (notification.accountId !== '') accounts.push(['the account id', notification.accountId]);
  const named = regionCodeFromName(notification.regionName);
  if (named !== undefined) regions.push(['the region', named]);
  if (accounts.length === 0 || regions.length === 0) {
    return `the alarm names no ${accounts.length === 0 ? 'account' : 'region'} this pipeline can check`;
  }
  for (const [what, account] of accounts) {
    if (!carries.accounts.includes(account)) {
      return `${what} names account ${cutText(account, 40)}, which ${describe(carries)}`;
    }
  }
  for (const [what, region] of regions) {
    if (region !== carries.region) return `${what} names region ${region}, which ${describe(carries)}`;
  }
  return undefined;
}

function carriesOf(carrier: Carrier, trust: IntakeTrust): Carries | string {
  if (carrier.via === 'eventbridge') {
    const { account, region } = carrier;
    if (
      typeof account !== 'string' ||
      !ACCOUNT_ID.test(account) ||
      typeof region !== 'string' ||
      !isRegionCode(region)
    ) {
      return 'the EventBridge event names no account and region of its own';
    }
    return { name: `the EventBridge event of ${account} in ${region}`, accounts: [account], region };
  }
  const m = TOPIC_ARN.exec(carrier.topicArn);
  if (!m?.[1] || !m[2]) {
    return `the record names no topic that delivered it (TopicArn ${JSON.stringify(cutText(carrier.topicArn, 120))})`;
  }
  const central = carrier.topicArn === trust.centralTopicArn;
  return {
    name: `${central ? 'the central topic' : 'the intake topic'} ${carrier.topicArn}`,
    accounts: central ? [m[2], ...trust.publisherAccountIds] : [m[2]],
    region: m[1],
  };
}

function describe(carries: Carries): string {
  return `${carries.name} does not carry: it carries ${carries.accounts.join(', ')} in ${carries.region}`;
}
