import {
  consoleHostFor,
  isRegionCode,
  KNOWN_REGION_CODES,
  partitionForRegion,
  regionCodeFromName,
} from '../../../lambda/shared/regions';

// Current names: the AWS SDK's partitions table. CloudWatch alarm messages carry these, the `EU (...)` forms,
// and, before about 2017, the `Area - Place` forms.
const CURRENT: [string, string][] = [
  ['US East (N. Virginia)', 'us-east-1'],
  ['US East (Ohio)', 'us-east-2'],
  ['US West (N. California)', 'us-west-1'],
  ['US West (Oregon)', 'us-west-2'],
  ['Africa (Cape Town)', 'af-south-1'],
  ['Asia Pacific (Hong Kong)', 'ap-east-1'],
  ['Asia Pacific (Taipei)', 'ap-east-2'],
  ['Asia Pacific (Tokyo)', 'ap-northeast-1'],
  ['Asia Pacific (Seoul)', 'ap-northeast-2'],
  ['Asia Pacific (Osaka)', 'ap-northeast-3'],
  ['Asia Pacific (Mumbai)', 'ap-south-1'],
  ['Asia Pacific (Hyderabad)', 'ap-south-2'],
  ['Asia Pacific (Singapore)', 'ap-southeast-1'],
  ['Asia Pacific (Sydney)', 'ap-southeast-2'],
  ['Asia Pacific (Jakarta)', 'ap-southeast-3'],
  ['Asia Pacific (Melbourne)', 'ap-southeast-4'],
  ['Asia Pacific (Malaysia)', 'ap-southeast-5'],
  ['Asia Pacific (New Zealand)', 'ap-southeast-6'],
  ['Asia Pacific (Thailand)', 'ap-southeast-7'],
  ['Canada (Central)', 'ca-central-1'],
  ['Canada West (Calgary)', 'ca-west-1'],
  ['Europe (Frankfurt)', 'eu-central-1'],
  ['Europe (Zurich)', 'eu-central-2'],
  ['Europe (Stockholm)', 'eu-north-1'],
  ['Europe (Milan)', 'eu-south-1'],
  ['Europe (Spain)', 'eu-south-2'],
  ['Europe (Ireland)', 'eu-west-1'],
  ['Europe (London)', 'eu-west-2'],
  ['Europe (Paris)', 'eu-west-3'],
  ['Israel (Tel Aviv)', 'il-central-1'],
  ['Middle East (UAE)', 'me-central-1'],
  ['Middle East (Bahrain)', 'me-south-1'],
  ['Middle East (Saudi Arabia)', 'me-west-1'],
  ['Mexico (Central)', 'mx-central-1'],
  ['South America (Sao Paulo)', 'sa-east-1'],
  ['South America (Chile)', 'sa-west-1'],
  ['China (Beijing)', 'cn-north-1'],
  ['China (Ningxia)', 'cn-northwest-1'],
  ['AWS GovCloud (US-East)', 'us-gov-east-1'],
  ['AWS GovCloud (US-West)', 'us-gov-west-1'],
  ['US ISO East', 'us-iso-east-1'],
  ['US ISO WEST', 'us-iso-west-1'],
  ['US ISOB East (Ohio)', 'us-isob-east-1'],
  ['EU ISOE West', 'eu-isoe-west-1'],
  ['AWS European Sovereign Cloud (Germany)', 'eusc-de-east-1'],
];

const OLDER: [string, string][] = [
  ['US - N. Virginia', 'us-east-1'],
  ['US West - Oregon', 'us-west-2'],
  ['US West - N. California', 'us-west-1'],
  ['EU - Ireland', 'eu-west-1'],
  ['EU - Frankfurt', 'eu-central-1'],
  ['Asia Pacific - Tokyo', 'ap-northeast-1'],
  ['Asia Pacific - Singapore', 'ap-southeast-1'],
  ['Asia Pacific - Sydney', 'ap-southeast-2'],
  ['South America - Sao Paulo', 'sa-east-1'],
  ['EU (Ireland)', 'eu-west-1'],
  ['EU (London)', 'eu-west-2'],
  ['EU (Milan)', 'eu-south-1'],
  ['EU (Stockholm)', 'eu-north-1'],
  ['Asia Pacific (Osaka-Local)', 'ap-northeast-3'],
  ['South America (São Paulo)', 'sa-east-1'],
  ['AWS GovCloud (US)', 'us-gov-west-1'],
];

describe('regionCodeFromName', () => {
  it.each(CURRENT)('reads the current name %s', (name, code) => {
    expect(regionCodeFromName(name)).toBe(code);
  });

  it.each(OLDER)('reads the older name %s', (name, code) => {
    expect(regionCodeFromName(name)).toBe(code);
  });

  it('ignores case, spacing and dots', () => {
    expect(regionCodeFromName('  us east  (n virginia) ')).toBe('us-east-1');
    expect(regionCodeFromName('ASIA PACIFIC (TOKYO)')).toBe('ap-northeast-1');
  });

  it('passes a region code through', () => {
    expect(regionCodeFromName('eu-west-1')).toBe('eu-west-1');
  });

  it.each(['Atlantis (Central)', '', 'EU', 'US East', 'Asia Pacific (Osaka-Remote)', 'EXAMPLE'])(
    'knows nothing of %j',
    (name) => {
      expect(regionCodeFromName(name)).toBeUndefined();
    },
  );

  it('has a name for every region it knows, and every table entry is a region code', () => {
    const named = new Set([...CURRENT, ...OLDER].map(([, code]) => code));
    expect(KNOWN_REGION_CODES.filter((code) => !named.has(code))).toEqual([
      'us-isob-west-1',
      'us-isof-east-1',
      'us-isof-south-1',
    ]);
    expect(KNOWN_REGION_CODES.filter((code) => !isRegionCode(code))).toEqual([]);
  });
});

describe('partitionForRegion', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['mx-central-1', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['us-isof-south-1', 'aws-iso-f'],
    ['eu-isoe-west-1', 'aws-iso-e'],
    ['eusc-de-east-1', 'aws-eusc'],
  ])('%s is in %s', (code, partition) => {
    expect(partitionForRegion(code)).toBe(partition);
  });
});

describe('consoleHostFor', () => {
  it.each([
    ['aws', 'console.aws.amazon.com'],
    ['aws-cn', 'console.amazonaws.cn'],
    ['aws-us-gov', 'console.amazonaws-us-gov.com'],
    ['eu-west-1', 'console.aws.amazon.com'],
    ['cn-north-1', 'console.amazonaws.cn'],
    ['us-gov-east-1', 'console.amazonaws-us-gov.com'],
  ])('%s → %s', (input, host) => {
    expect(consoleHostFor(input)).toBe(host);
  });

  it('has no public console for the isolated partitions', () => {
    expect(consoleHostFor('aws-iso')).toBeUndefined();
    expect(consoleHostFor('us-isob-east-1')).toBeUndefined();
  });
});
