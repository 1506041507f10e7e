import { loadConfig } from '../../../lambda/pipeline/config';

const base = { LEDGER_TABLE_NAME: 'ledger', ROUTING_KEY_SECRETS: '{"default":"pd/key"}' };

describe('loadConfig', () => {
  it('runs with only the contract variables set, every other setting defaulted', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      ledgerTableName: 'ledger',
      routingKeySecrets: { default: 'pd/key' },
      pagerDutyEventsUrl: 'https://events.pagerduty.com',
      defaultSeverity: 'critical',
      insufficientDataPolicy: 'ignore',
      unrecognisedMessages: 'trigger',
      serviceSeverities: {},
      environment: undefined,
      ledgerTtlSeconds: 90 * 86400,
    });
  });

  it('names the variable when a value is bad', () => {
    expect(() => loadConfig({ ...base, ROUTING_KEY_SECRETS: '{"ops":"x"}' })).toThrow(
      /ROUTING_KEY_SECRETS: needs a "default" route/,
    );
    expect(() => loadConfig({ ...base, ROUTING_KEY_SECRETS: 'not json' })).toThrow(
      /ROUTING_KEY_SECRETS: is not JSON/,
    );
    expect(() => loadConfig({ ...base, DEFAULT_SEVERITY: 'CRITICAL' })).toThrow(/DEFAULT_SEVERITY/);
    expect(() => loadConfig({ ...base, PAGERDUTY_EVENTS_URL: 'events.pagerduty' })).toThrow(
      /PAGERDUTY_EVENTS_URL/,
    );
    expect(() => loadConfig({ ROUTING_KEY_SECRETS: base.ROUTING_KEY_SECRETS })).toThrow(/LEDGER_TABLE_NAME/);
  });

  it('takes an events URL that is https, or http to this machine only: a routing key never goes out in clear', () => {
    for (const url of ['http://events.pagerduty.com', 'http://10.0.0.7:8080', 'ftp://events.pagerduty.com']) {
      expect(() => loadConfig({ ...base, PAGERDUTY_EVENTS_URL: url })).toThrow(
        /PAGERDUTY_EVENTS_URL: must be an https URL/,
      );
    }
    for (const url of [
      'https://events.eu.pagerduty.com',
      'http://127.0.0.1:4000',
      'http://localhost:4000',
      'http://[::1]:4000',
    ]) {
      expect(loadConfig({ ...base, PAGERDUTY_EVENTS_URL: url }).pagerDutyEventsUrl).toBe(url);
    }
  });

  it('reads ENVIRONMENT_ROUTES by lower-cased name, each route one with a routing key', () => {
    const routes = '{"default":"pd/key","payments":"pd/payments"}';
    expect(loadConfig(base).environmentRoutes).toEqual({});
    expect(
      loadConfig({
        ...base,
        ROUTING_KEY_SECRETS: routes,
        ENVIRONMENT_ROUTES: '{"Staging":"payments","prod":"default"}',
      }).environmentRoutes,
    ).toEqual({ staging: 'payments', prod: 'default' });
    expect(() => loadConfig({ ...base, ENVIRONMENT_ROUTES: '{"staging":"payments"}' })).toThrow(
      'ENVIRONMENT_ROUTES.staging: route "payments" has no routing key (ROUTING_KEY_SECRETS has default)',
    );
    expect(() =>
      loadConfig({
        ...base,
        ROUTING_KEY_SECRETS: routes,
        ENVIRONMENT_ROUTES: '{"prod":"default","PROD":"payments"}',
      }),
    ).toThrow('ENVIRONMENT_ROUTES.PROD: names the same environment as another entry');
    expect(() => loadConfig({ ...base, ENVIRONMENT_ROUTES: '{"":"default"}' })).toThrow(
      'ENVIRONMENT_ROUTES."": is not an environment name (1-32 of A-Z a-z 0-9 _ -)',
    );
    expect(() => loadConfig({ ...base, ENVIRONMENT_ROUTES: '{"prod env":"default"}' })).toThrow(
      'ENVIRONMENT_ROUTES."prod env": is not an environment name',
    );
    expect(() => loadConfig({ ...base, ENVIRONMENT_ROUTES: '["default"]' })).toThrow(/ENVIRONMENT_ROUTES/);
  });

  it('reads SERVICE_SEVERITIES, naming the entry that is wrong', () => {
    expect(
      loadConfig({ ...base, SERVICE_SEVERITIES: '{"guardduty:high":"error"}' }).serviceSeverities,
    ).toEqual({
      'guardduty:high': 'error',
    });
    expect(() => loadConfig({ ...base, SERVICE_SEVERITIES: '{"guarduty":"error"}' })).toThrow(
      /SERVICE_SEVERITIES: "guarduty": "guarduty" is not a service/,
    );
    expect(() => loadConfig({ ...base, SERVICE_SEVERITIES: '{"rds":"urgent"}' })).toThrow(
      /SERVICE_SEVERITIES: "rds": "urgent" is not a severity/,
    );
  });

  it('strips a trailing slash from the events URL and reads numbers', () => {
    const config = loadConfig({
      ...base,
      PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:9/',
      LEDGER_TTL_DAYS: '30',
    });
    expect(config.pagerDutyEventsUrl).toBe('http://127.0.0.1:9');
    expect(config.ledgerTtlSeconds).toBe(30 * 86400);
    expect(() => loadConfig({ ...base, LEDGER_TTL_DAYS: '7' })).toThrow(/LEDGER_TTL_DAYS/);
  });
});
