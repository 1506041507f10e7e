import fc from 'fast-check';
import { parseNotification } from '../../../lambda/messages/parse-notification';
import {
  alarmIdentity,
  dedupKeyFor,
  fitDedupKey,
  MAX_DEDUP_KEY_LENGTH,
} from '../../../lambda/pipeline/dedup-key';
import { KNOWN_REGION_CODES, partitionForRegion } from '../../../lambda/shared/regions';
import { alarm, alarmMessage, envelope, unrecognised } from '../../support/notifications';

// Names CloudWatch writes for some regions, old and new, with the code the ARN carries.
const REGIONS: [string, string][] = [
  ['US East (N. Virginia)', 'us-east-1'],
  ['US - N. Virginia', 'us-east-1'],
  ['EU (Ireland)', 'eu-west-1'],
  ['EU - Ireland', 'eu-west-1'],
  ['Europe (Frankfurt)', 'eu-central-1'],
  ['Asia Pacific - Tokyo', 'ap-northeast-1'],
  ['Asia Pacific (Osaka-Local)', 'ap-northeast-3'],
  ['China (Ningxia)', 'cn-northwest-1'],
  ['AWS GovCloud (US)', 'us-gov-west-1'],
  ['Mexico (Central)', 'mx-central-1'],
];

const alarmName = fc
  .string({ minLength: 1, maxLength: 255, unit: 'grapheme' })
  .filter((s) => s.trim() !== '');
const accountId = fc.stringMatching(/^\d{12}$/);
const region = fc.constantFrom(...REGIONS);

function message(
  name: string,
  account: string,
  [regionName, code]: [string, string],
  state: string,
  withArn: boolean,
) {
  const arn = `arn:${partitionForRegion(code)}:cloudwatch:${code}:${account}:alarm:${name}`;
  const m = alarmMessage({
    AlarmName: name,
    AWSAccountId: account,
    Region: regionName,
    NewStateValue: state,
    AlarmArn: arn,
  });
  if (!withArn) delete m.AlarmArn;
  return parseNotification(envelope(m));
}

describe('dedupKeyFor: alarms', () => {
  it('is the AlarmArn', () => {
    expect(dedupKeyFor(alarm())).toBe('arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate');
  });

  it('builds the same ARN for a message without one', () => {
    expect(dedupKeyFor(alarm({ alarmArn: undefined, partition: 'aws-cn', regionCode: 'cn-north-1' }))).toBe(
      'arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:HighErrorRate',
    );
  });

  it('falls back to account, region name and alarm name when the region is unknown', () => {
    const n = alarm({ alarmArn: undefined, regionCode: undefined, regionName: 'Atlantis (Central)' });
    expect(dedupKeyFor(n)).toBe('cloudwatch-alarm:123456789012:Atlantis (Central):HighErrorRate');
  });

  it('is the same for ALARM, OK and INSUFFICIENT_DATA of one alarm', () => {
    fc.assert(
      fc.property(alarmName, accountId, region, fc.boolean(), (name, account, where, withArn) => {
        const keys = ['ALARM', 'OK', 'INSUFFICIENT_DATA'].map((state) =>
          dedupKeyFor(message(name, account, where, state, withArn)),
        );
        expect(new Set(keys).size).toBe(1);
        expect(keys[0]!.length).toBeLessThanOrEqual(MAX_DEDUP_KEY_LENGTH);
      }),
    );
  });

  it('differs for the same name in two regions or two accounts', () => {
    fc.assert(
      fc.property(alarmName, accountId, accountId, region, region, (name, a1, a2, r1, r2) => {
        fc.pre(a1 !== a2 || r1[1] !== r2[1]);
        expect(dedupKeyFor(message(name, a1, r1, 'ALARM', true))).not.toBe(
          dedupKeyFor(message(name, a2, r2, 'ALARM', true)),
        );
      }),
    );
  });

  it('is the same for an old-format message (no ARN, old region name) and a new one of the same alarm', () => {
    fc.assert(
      fc.property(alarmName, accountId, region, region, (name, account, oldWhere, newWhere) => {
        fc.pre(oldWhere[1] === newWhere[1]);
        const old = message(name, account, oldWhere, 'ALARM', false);
        const current = message(name, account, newWhere, 'OK', true);
        expect(old.type === 'alarm' && old.alarmArn).toBe(undefined);
        expect(dedupKeyFor(old)).toBe(dedupKeyFor(current));
      }),
    );
  });

  it('keeps a name ending in a space as it is, so old and new formats still match', () => {
    const where: [string, string] = ['US East (N. Virginia)', 'us-east-1'];
    const old = message('disk full ', '000000000000', where, 'ALARM', false);
    expect(dedupKeyFor(old)).toBe('arn:aws:cloudwatch:us-east-1:000000000000:alarm:disk full ');
    expect(dedupKeyFor(message('disk full ', '000000000000', where, 'OK', true))).toBe(dedupKeyFor(old));
  });

  it('covers old and new names of every known region', () => {
    for (const code of KNOWN_REGION_CODES) {
      const n = alarm({ alarmArn: undefined, regionCode: code, partition: partitionForRegion(code) });
      expect(alarmIdentity(n)).toBe(
        `arn:${partitionForRegion(code)}:cloudwatch:${code}:123456789012:alarm:HighErrorRate`,
      );
    }
  });
});

describe('fitDedupKey', () => {
  it('keeps keys up to 255 characters', () => {
    const key = 'k'.repeat(255);
    expect(fitDedupKey(key)).toBe(key);
  });

  it('keeps a readable prefix and a SHA-256 of the whole identity when longer', () => {
    const arn = `arn:aws:cloudwatch:ap-southeast-2:123456789012:alarm:${'x'.repeat(255)}`;
    const key = fitDedupKey(arn);
    expect(key).toHaveLength(255);
    // The digest was computed apart, with Python's hashlib, over the whole ARN.
    expect(key).toBe(
      `${arn.slice(0, 183)}:sha256:4137c76fca044aad15c4083461548b71bf7450c43085eba9b33b12fa62a5c53a`,
    );
  });

  it('gives different keys to long identities that share their first 255 characters', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 50 }),
        fc.string({ minLength: 1, maxLength: 50 }),
        (a, b) => {
          fc.pre(a !== b);
          const prefix = 'p'.repeat(300);
          const [ka, kb] = [fitDedupKey(prefix + a), fitDedupKey(prefix + b)];
          expect(ka).not.toBe(kb);
          expect(ka.length).toBeLessThanOrEqual(255);
        },
      ),
    );
  });

  it('never splits a surrogate pair in the prefix', () => {
    const key = fitDedupKey('a'.repeat(182) + '😀'.repeat(100));
    expect(key.length).toBeLessThanOrEqual(255);
    expect(key).toMatch(/^a{182}:sha256:/);
  });
});

describe('dedupKeyFor: unrecognised messages', () => {
  it('is sns: and 32 hex characters of SHA-256 over topic, subject and body', () => {
    expect(dedupKeyFor(unrecognised())).toMatch(/^sns:[0-9a-f]{32}$/);
  });

  it('is the same for a re-publish of the same message, whenever it is published', () => {
    expect(dedupKeyFor(unrecognised({ publishedEpochMs: 1 }))).toBe(
      dedupKeyFor(unrecognised({ publishedEpochMs: 2 })),
    );
  });

  it('differs when the topic, subject or body differs', () => {
    const keys = [
      unrecognised(),
      unrecognised({ body: 'hello!' }),
      unrecognised({ subject: 'Other' }),
      unrecognised({ subject: undefined }),
      unrecognised({ topicArn: 'arn:aws:sns:us-east-1:123456789012:other' }),
      unrecognised({ subject: 'Testhello', body: '' }),
    ].map(dedupKeyFor);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('dedupKeyFor: contributors of multi-time-series alarms', () => {
  const contributor = (id: string, attributes: Record<string, string> = {}) =>
    alarm({ contributor: { id, attributes } });

  it('is the alarm ARN, the contributor mark and the contributor id', () => {
    expect(dedupKeyFor(contributor('6d442278dba546f6'))).toBe(
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate/contributor/6d442278dba546f6',
    );
  });

  it('differs per contributor and from the alarm itself, and ignores the attributes', () => {
    const keys = new Set([
      dedupKeyFor(alarm()),
      dedupKeyFor(contributor('a')),
      dedupKeyFor(contributor('b')),
      dedupKeyFor(contributor('a', { TableName: 'x' })),
    ]);
    expect(keys.size).toBe(3);
  });

  it('fits 255 characters for the longest names and ids, stays stable, and keeps them apart', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 200, maxLength: 255 }),
        fc.string({ minLength: 1, maxLength: 1024 }),
        fc.string({ minLength: 1, maxLength: 1024 }),
        (name, a, b) => {
          const arn = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;
          const key = (id: string) =>
            dedupKeyFor(alarm({ alarmName: name, alarmArn: arn, contributor: { id, attributes: {} } }));
          expect(key(a).length).toBeLessThanOrEqual(MAX_DEDUP_KEY_LENGTH);
          expect(key(a)).toBe(key(a));
          if (a !== b) expect(key(a)).not.toBe(key(b));
        },
      ),
    );
  });

  it('is the same whether the message carries the ARN or only name, account and region', () => {
    const withArn = parseNotification(envelope(alarmMessage({ AlarmContributorId: 'c1' })));
    const withoutArn = parseNotification(
      envelope(alarmMessage({ AlarmContributorId: 'c1', AlarmArn: undefined })),
    );
    expect(dedupKeyFor(withArn)).toBe(dedupKeyFor(withoutArn));
  });
});

describe('dedupKeyFor: unrecognised messages', () => {
  it('names the intake they came through', () => {
    expect(dedupKeyFor(unrecognised())).toMatch(/^sns:[0-9a-f]{32}$/);
    expect(dedupKeyFor(unrecognised({ intake: 'eventbridge', topicArn: '' }))).toMatch(
      /^eventbridge:[0-9a-f]{32}$/,
    );
  });
});
