import { readFileSync } from 'node:fs';
import { parseNotification } from './lambda/alarm-message';
import { buildAlertEvent } from './lambda/pagerduty-event';
import { dedupKeyFor } from './lambda/dedup-key';
const c = JSON.parse(readFileSync(process.argv[2]!, 'utf8'));
const n = parseNotification({ messageId: c.Sns.MessageId, topicArn: c.Sns.TopicArn, subject: c.Sns.Subject, timestamp: c.Sns.Timestamp, message: c.Sns.Message });
console.log(JSON.stringify(n, null, 1));
console.log(JSON.stringify(buildAlertEvent(n, { route: 'default', severity: 'critical', insufficientData: 'ignore', problems: [] }, 'trigger', dedupKeyFor(n), { clientName: 'CloudWatch alarm pipeline' }), null, 1));
