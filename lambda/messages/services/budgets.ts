// AWS Budgets alerts, published as prose.
import { compact } from '../../shared/json';
import { collapse, cut } from './fields';
import { SEVERITY_BY_OUTCOME, type Outcome, type ServiceNotification } from './types';

// Budgets publishes prose: "AWS Budget Notification <date>\nAWS Account <id>\n…\nBudget Name: …\nAlert Type: …".
export function budgetNotification(
  subject: string | undefined,
  body: string,
): ServiceNotification | undefined {
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
