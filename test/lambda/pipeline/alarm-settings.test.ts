import {
  declaredFor,
  parseDeclaredSettings,
  resolveSettings,
  type SettingsInput,
} from '../../../lambda/pipeline/alarm-settings';
import { ConfigError } from '../../../lambda/pipeline/config';
import { alarm, unrecognised } from '../../support/notifications';

const defaults: SettingsInput['defaults'] = {
  route: 'default',
  severity: 'critical',
  insufficientData: 'ignore',
};
const knownRoutes = ['default', 'payments', 'Platform'];

const resolve = (
  tags: Record<string, string>,
  declared?: SettingsInput['declared'],
  extra: Partial<SettingsInput> = {},
) => resolveSettings({ tags, declared, defaults, knownRoutes, ...extra });

describe('resolveSettings', () => {
  it('uses the defaults when there are no tags and no declaration', () => {
    expect(resolve({})).toEqual({
      route: 'default',
      routeFrom: 'default',
      severity: 'critical',
      severityFrom: 'default',
      insufficientData: 'ignore',
      runbookUrl: undefined,
      dashboardUrl: undefined,
      environment: undefined,
      problems: [],
    });
    expect(resolve({}, undefined, { defaults: { ...defaults, environment: 'prod' } }).environment).toBe(
      'prod',
    );
  });

  it('takes each field from the tag, then the declaration, then the default', () => {
    const declared = {
      route: 'payments',
      severity: 'error' as const,
      insufficientData: 'resolve' as const,
      runbookUrl: 'https://wiki.example.com/declared',
      environment: 'staging',
    };
    const tags = {
      'pagerduty:severity': 'warning',
      'pagerduty:dashboard': 'https://grafana.example.com/d/abc',
      'pagerduty:environment': 'prod',
    };
    expect(resolve(tags, declared)).toEqual({
      route: 'payments',
      routeFrom: 'declared',
      severity: 'warning',
      severityFrom: 'tag',
      insufficientData: 'resolve',
      runbookUrl: 'https://wiki.example.com/declared',
      dashboardUrl: 'https://grafana.example.com/d/abc',
      environment: 'prod',
      problems: [],
    });
  });

  it('accepts values and tag keys case-insensitively, and spells routes as they are configured', () => {
    const settings = resolve({
      'PagerDuty:Severity': 'Critical',
      'pagerduty:route': 'platform',
      'pagerduty:insufficient-data': ' TRIGGER ',
    });
    expect(settings).toMatchObject({
      severity: 'critical',
      route: 'Platform',
      insufficientData: 'trigger',
      problems: [],
    });
  });

  it('prefers the exactly lower-case tag key when two keys differ only in case', () => {
    expect(resolve({ 'PAGERDUTY:SEVERITY': 'info', 'pagerduty:severity': 'warning' }).severity).toBe(
      'warning',
    );
    expect(resolve({ 'pagerduty:severity': 'warning', 'PAGERDUTY:SEVERITY': 'info' }).severity).toBe(
      'warning',
    );
  });

  it('reports a bad tag value in one line naming tag and value, and uses the next source', () => {
    const settings = resolve(
      {
        'pagerduty:severity': 'urgent',
        'pagerduty:route': 'billing',
        'pagerduty:runbook': 'javascript:alert(1)',
        'pagerduty:dashboard': 'not a url',
        'pagerduty:insufficient-data': 'maybe',
        'pagerduty:environment': 'prod env!',
      },
      { severity: 'error' },
    );
    expect(settings).toMatchObject({
      route: 'default',
      severity: 'error',
      severityFrom: 'declared',
      insufficientData: 'ignore',
      runbookUrl: undefined,
      dashboardUrl: undefined,
      environment: undefined,
    });
    expect(settings.problems).toEqual([
      'tag pagerduty:environment: "prod env!" is not 1-32 of A-Z a-z 0-9 _ -; leaving it unset',
      'tag pagerduty:route: "billing" is not a known route (default, payments, Platform); using the default "default"',
      'tag pagerduty:severity: "urgent" is not a severity (critical, error, warning, info); using "error" from the declared severity (ALARM_SETTINGS)',
      'tag pagerduty:insufficient-data: "maybe" is not an insufficient-data policy (ignore, trigger, resolve); using the default "ignore"',
      'tag pagerduty:runbook: "javascript:alert(1)" is not an https URL; leaving it unset',
      'tag pagerduty:dashboard: "not a url" is not an https URL; leaving it unset',
    ]);
  });

  describe('routing by environment (ENVIRONMENT_ROUTES)', () => {
    const environmentRoutes = { staging: 'payments', prod: 'Platform' };
    const withRoutes = (
      tags: Record<string, string>,
      declared?: SettingsInput['declared'],
      environment?: string,
    ) => resolve(tags, declared, { environmentRoutes, defaults: { ...defaults, environment } });

    it("sends an alarm that names no route to its environment's route, from its tag, declaration or the default", () => {
      expect(withRoutes({ 'pagerduty:environment': 'Staging' })).toMatchObject({
        route: 'payments',
        routeFrom: 'environment',
        environment: 'Staging',
        problems: [],
      });
      expect(withRoutes({}, { environment: 'prod' })).toMatchObject({
        route: 'Platform',
        routeFrom: 'environment',
      });
      expect(withRoutes({}, undefined, 'staging')).toMatchObject({
        route: 'payments',
        routeFrom: 'environment',
      });
      // The alarm's own environment wins over the function's.
      expect(withRoutes({ 'pagerduty:environment': 'prod' }, undefined, 'staging').route).toBe('Platform');
    });

    it('leaves an environment not listed, or none, to the default route', () => {
      expect(withRoutes({ 'pagerduty:environment': 'dev' })).toMatchObject({
        route: 'default',
        routeFrom: 'default',
      });
      expect(withRoutes({})).toMatchObject({ route: 'default', routeFrom: 'default' });
    });

    it("lets the alarm's own route, tagged or declared, win over its environment's", () => {
      expect(withRoutes({ 'pagerduty:route': 'default', 'pagerduty:environment': 'prod' })).toMatchObject({
        route: 'default',
        routeFrom: 'tag',
      });
      expect(withRoutes({}, { route: 'payments', environment: 'prod' })).toMatchObject({
        route: 'payments',
        routeFrom: 'declared',
      });
    });

    it("falls back to the environment's route, not the default, past a bad route tag, and says so", () => {
      const settings = withRoutes({ 'pagerduty:route': 'billing', 'pagerduty:environment': 'prod' });
      expect(settings.route).toBe('Platform');
      expect(settings.problems).toEqual([
        'tag pagerduty:route: "billing" is not a known route (default, payments, Platform); using environment "prod"\'s route (ENVIRONMENT_ROUTES) "Platform"',
      ]);
    });

    it('goes to the default route when the listed route has no routing key', () => {
      expect(
        resolve({ 'pagerduty:environment': 'qa' }, undefined, { environmentRoutes: { qa: 'retired' } }),
      ).toMatchObject({ route: 'default', routeFrom: 'default' });
    });
  });

  it('reports a declared route that has no routing key, and falls back to the default', () => {
    const settings = resolve({}, { route: 'retired' });
    expect(settings.route).toBe('default');
    expect(settings.problems).toEqual([
      'declared route (ALARM_SETTINGS): "retired" is not a known route (default, payments, Platform); using the default "default"',
    ]);
  });

  it('says a severity is the default when its only tag is bad, so triage may replace it', () => {
    expect(resolve({ 'pagerduty:severity': 'urgent' })).toMatchObject({
      severity: 'critical',
      severityFrom: 'default',
    });
  });

  it('ignores empty tag values without a problem', () => {
    expect(
      resolve({ 'pagerduty:severity': '', 'pagerduty:runbook': '  ' }, { severity: 'info' }),
    ).toMatchObject({
      severity: 'info',
      runbookUrl: undefined,
      problems: [],
    });
  });

  it('normalises URLs (a space becomes %20)', () => {
    expect(resolve({ 'pagerduty:runbook': 'https://wiki.example.com/run book' }).runbookUrl).toBe(
      'https://wiki.example.com/run%20book',
    );
    expect(resolve({ 'pagerduty:runbook': 'ftp://files.example.com/runbook' }).problems).toHaveLength(1);
  });
});

describe('parseDeclaredSettings', () => {
  it('reads nothing from an unset or blank variable', () => {
    expect(parseDeclaredSettings(undefined)).toEqual({});
    expect(parseDeclaredSettings('  ')).toEqual({});
  });

  it('reads declarations keyed by ARN or name, normalising values', () => {
    const map = parseDeclaredSettings(
      JSON.stringify({
        'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate': {
          route: ' payments ',
          severity: 'Critical',
        },
        DiskFull: {
          insufficientData: 'Trigger',
          runbookUrl: 'https://wiki.example.com/disk',
          environment: 'prod',
          dashboardUrl: null,
        },
      }),
    );
    expect(map).toEqual({
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate': {
        route: 'payments',
        severity: 'critical',
      },
      DiskFull: {
        insufficientData: 'trigger',
        runbookUrl: 'https://wiki.example.com/disk',
        environment: 'prod',
      },
    });
  });

  it.each([
    ['{not json', /^Invalid configuration: ALARM_SETTINGS: is not JSON/],
    ['[]', /ALARM_SETTINGS: must be a JSON object keyed by alarm ARN or name/],
    ['{"a": "critical"}', /ALARM_SETTINGS\["a"\]: must be an object of settings/],
    ['{"a": {"severty": "critical"}}', /ALARM_SETTINGS\["a"\]\.severty: is not a setting \(route, severity,/],
    ['{"a": {"severity": "urgent"}}', /ALARM_SETTINGS\["a"\]\.severity: "urgent" is not a severity/],
    [
      '{"a": {"runbookUrl": "wiki/page"}}',
      /ALARM_SETTINGS\["a"\]\.runbookUrl: "wiki\/page" is not an https URL/,
    ],
    ['{"a": {"route": 7}}', /ALARM_SETTINGS\["a"\]\.route: must be a string/],
  ])('throws a ConfigError naming ALARM_SETTINGS for %s', (json, message) => {
    expect(() => parseDeclaredSettings(json)).toThrow(ConfigError);
    expect(() => parseDeclaredSettings(json)).toThrow(message);
  });

  it('with a reporter, reports each bad declaration and keeps the good ones', () => {
    const problems: string[] = [];
    const map = parseDeclaredSettings(
      '{"a": {"severity": "urgent", "runbookUrl": "https://wiki.example.com/a"}, "b": "x", "c": {"severity": "info"}}',
      (problem) => problems.push(problem),
    );
    expect(map).toEqual({ a: { runbookUrl: 'https://wiki.example.com/a' }, b: {}, c: { severity: 'info' } });
    expect(problems).toEqual([
      expect.stringMatching(/ALARM_SETTINGS\["a"\]\.severity: "urgent" is not a severity/),
      expect.stringMatching(/ALARM_SETTINGS\["b"\]: must be an object of settings/),
    ]);
    expect(parseDeclaredSettings('{not json', (problem) => problems.push(problem))).toEqual({});
    expect(problems).toHaveLength(3);
  });

  it('keeps a "__proto__" alarm name as data', () => {
    const map = parseDeclaredSettings('{"__proto__": {"severity": "info"}}');
    expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
    expect(declaredFor(map, alarm({ alarmArn: undefined, alarmName: '__proto__' }))).toEqual({
      severity: 'info',
    });
  });
});

describe('declaredFor', () => {
  const map = parseDeclaredSettings(
    JSON.stringify({
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate': { severity: 'warning' },
      HighErrorRate: { severity: 'info' },
      OnlyByName: { severity: 'error' },
    }),
  );

  it('looks up by the alarm ARN first', () => {
    expect(declaredFor(map, alarm())).toEqual({ severity: 'warning' });
  });

  it('uses the ARN built for an old message without one', () => {
    expect(declaredFor(map, alarm({ alarmArn: undefined }))).toEqual({ severity: 'warning' });
  });

  it('then looks up by name', () => {
    expect(declaredFor(map, alarm({ alarmName: 'OnlyByName', alarmArn: undefined }))).toEqual({
      severity: 'error',
    });
    expect(declaredFor(map, alarm({ alarmName: 'toString', alarmArn: undefined }))).toBeUndefined();
  });

  it('has nothing for an unrecognised message', () => {
    expect(declaredFor(map, unrecognised())).toBeUndefined();
  });
});

describe('repageMinutes (tag pagerduty:repage-minutes, or ALARM_SETTINGS from addAlarm repageInterval)', () => {
  it('takes whole minutes from 5 to a week, the tag first', () => {
    expect(resolve({ 'pagerduty:repage-minutes': ' 15 ' }).repageMinutes).toBe(15);
    expect(resolve({}, { repageMinutes: '60' }).repageMinutes).toBe(60);
    expect(resolve({ 'pagerduty:repage-minutes': '30' }, { repageMinutes: '60' }).repageMinutes).toBe(30);
    expect(resolve({}).repageMinutes).toBeUndefined();
  });

  it.each(['4', '10081', '1.5', 'hourly', '-5'])(
    'reports %j and re-pages per the declaration, else not at all',
    (raw) => {
      const settings = resolve({ 'pagerduty:repage-minutes': raw });
      expect(settings.repageMinutes).toBeUndefined();
      expect(settings.problems).toEqual([
        `tag pagerduty:repage-minutes: ${JSON.stringify(raw)} is not whole minutes from 5 to 10080; leaving it unset`,
      ]);
      expect(resolve({ 'pagerduty:repage-minutes': raw }, { repageMinutes: '20' }).repageMinutes).toBe(20);
    },
  );

  it('ALARM_SETTINGS: a bad repageMinutes is a ConfigError naming the entry', () => {
    expect(() => parseDeclaredSettings(JSON.stringify({ a: { repageMinutes: '2' } }))).toThrow(
      /ALARM_SETTINGS\["a"\]\.repageMinutes: "2" is not whole minutes from 5 to 10080/,
    );
    expect(parseDeclaredSettings(JSON.stringify({ a: { repageMinutes: '05' } }))).toEqual({
      a: { repageMinutes: '5' },
    });
  });
});
