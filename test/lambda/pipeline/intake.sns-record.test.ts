// The one SNS record reader (snsRecordInput): SNS always sends Sns.Message as a string, so a record without one
// was written by hand or by a broken publisher. It is refused (the handler counts MalformedEvents and fails the
// record, see handler.test.ts), not paged as an unrecognised message.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotification } from '../../../lambda/messages/parse-notification';
import { snsRecordInput } from '../../../lambda/pipeline/intake';
import type { IntakeTrust } from '../../../lambda/pipeline/intake-trust';
import { alarmMessage } from '../../support/notifications';
import { TEST_ROOT } from '../../support/paths';

// The topic's own account and region (the alarm's): trusted without a central topic.
const TRUST: IntakeTrust = { publisherAccountIds: [] };

const sns = (fields: Record<string, unknown>) => ({
  EventSource: 'aws:sns',
  Sns: {
    MessageId: 'm-1',
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:alarms',
    Timestamp: '2021-11-10T02:45:55.703Z',
    ...fields,
  },
});

describe('snsRecordInput', () => {
  it('reads a well-formed record: the envelope, the parsed message and the time SNS vouches for', async () => {
    const result = await snsRecordInput(
      sns({ Message: JSON.stringify(alarmMessage()), Subject: 'ALARM' }),
      0,
      TRUST,
    );
    expect(result).toMatchObject({
      ok: true,
      input: {
        notification: { type: 'alarm', alarmName: alarmMessage().AlarmName },
        vouchedMs: Date.UTC(2021, 10, 10, 2, 45, 55, 703),
        logKeys: { messageId: 'm-1', intake: 'sns' },
      },
    });
  });

  it.each<[string, unknown, string]>([
    ['no Sns at all', { EventSource: 'aws:sns' }, 'SNS record 3 has no "Sns" object'],
    ['not an object', 'record', 'SNS record 3 has no "Sns" object'],
    ['no Sns.Message', sns({}), 'SNS record 3 has no "Sns.Message": there is nothing to page'],
    ['a null Sns.Message', sns({ Message: null }), 'SNS record 3 has no "Sns.Message"'],
  ])('refuses a record with %s, saying what is missing', async (_what, record, why) => {
    const result = await snsRecordInput(record, 3, TRUST);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.why).toContain(why);
  });

  it('reads a message given as an object (a hand-made test event) as the JSON it would have been', async () => {
    const result = await snsRecordInput(sns({ Message: alarmMessage() }), 0, TRUST);
    expect(result).toMatchObject({ ok: true, input: { notification: { type: 'alarm' } } });
  });

  it('reads any other non-string message as its JSON, which is not an alarm', async () => {
    const result = await snsRecordInput(sns({ Message: 7 }), 0, TRUST);
    expect(result).toMatchObject({
      ok: true,
      input: { notification: { type: 'unrecognised', why: expect.stringContaining('JSON number 7') } },
    });
  });

  // The intake loads the service-notification recognisers only for a message that is not an alarm
  // (parseNotificationOnDemand): every service notification of the corpus still reads as the whole parser reads it.
  const services = join(TEST_ROOT, 'corpus-services');
  it.each(readdirSync(services).filter((file) => file.endsWith('.json')))(
    'reads %s as parseNotification does, the publishing service recognised',
    async (file) => {
      const { Sns } = JSON.parse(readFileSync(join(services, file), 'utf8')) as {
        Sns: Record<string, string>;
      };
      const whole = parseNotification({
        messageId: Sns.MessageId!,
        topicArn: Sns.TopicArn!,
        subject: Sns.Subject,
        timestamp: Sns.Timestamp!,
        message: Sns.Message!,
      });
      // The topic as the central one, publishing for the account the service names: nothing is refused.
      const named = whole.type === 'unrecognised' ? whole.service?.details.account : undefined;
      const trust = {
        centralTopicArn: Sns.TopicArn!,
        publisherAccountIds: typeof named === 'string' ? [named] : [],
      };
      const result = await snsRecordInput(sns(Sns), 0, trust);
      const notification = result.ok ? result.input.notification : undefined;
      expect(notification ?? result).toEqual(whole);
    },
  );

  it('reads an alarm without loading a recogniser, and a plain-text message with them', async () => {
    const alarm = await snsRecordInput(sns({ Message: JSON.stringify(alarmMessage()) }), 0, TRUST);
    expect(alarm.ok && alarm.input.notification.type).toBe('alarm');
    const text = await snsRecordInput(
      sns({
        Message: 'AWS Budget Notification',
        Subject: 'AWS Budgets: monthly has exceeded your alert threshold',
      }),
      0,
      TRUST,
    );
    expect(text.ok && text.input.notification).toMatchObject({ type: 'unrecognised' });
  });
});
