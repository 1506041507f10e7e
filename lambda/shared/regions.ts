// Region long names as CloudWatch writes them in the `Region` field of alarm notifications, old and new.
// Current names: the AWS SDK's partitions table (Europe (Ireland), Asia Pacific (Taipei), ...). CloudWatch has
// also written `EU (Ireland)` (still seen in 2024), `Asia Pacific (Osaka-Local)`, `AWS GovCloud (US)` and, in
// messages before about 2017, `US - N. Virginia`, `US West - Oregon`, `EU - Ireland`, `Asia Pacific - Tokyo`.
// Every `<area> (<place>)` combination below is accepted, and so is the old `<area> - <place>` form of each.

interface RegionNames {
  readonly code: string;
  readonly areas: readonly string[];
  readonly places: readonly string[];
  /** Names that do not follow `<area> (<place>)`. */
  readonly aliases?: readonly string[];
}

const EUROPE = ['Europe', 'EU'];
const ASIA_PACIFIC = ['Asia Pacific'];

const REGION_NAMES: readonly RegionNames[] = [
  { code: 'us-east-1', areas: ['US East', 'US'], places: ['N. Virginia', 'Northern Virginia', 'Virginia'] },
  { code: 'us-east-2', areas: ['US East', 'US'], places: ['Ohio'] },
  { code: 'us-west-1', areas: ['US West', 'US'], places: ['N. California', 'Northern California'] },
  { code: 'us-west-2', areas: ['US West', 'US'], places: ['Oregon'] },
  { code: 'ca-central-1', areas: ['Canada'], places: ['Central'] },
  { code: 'ca-west-1', areas: ['Canada West', 'Canada'], places: ['Calgary'] },
  { code: 'mx-central-1', areas: ['Mexico'], places: ['Central'] },
  { code: 'sa-east-1', areas: ['South America'], places: ['Sao Paulo'] },
  { code: 'sa-west-1', areas: ['South America'], places: ['Chile'] },
  { code: 'eu-west-1', areas: EUROPE, places: ['Ireland'] },
  { code: 'eu-west-2', areas: EUROPE, places: ['London'] },
  { code: 'eu-west-3', areas: EUROPE, places: ['Paris'] },
  { code: 'eu-central-1', areas: EUROPE, places: ['Frankfurt'] },
  { code: 'eu-central-2', areas: EUROPE, places: ['Zurich'] },
  { code: 'eu-north-1', areas: EUROPE, places: ['Stockholm'] },
  { code: 'eu-south-1', areas: EUROPE, places: ['Milan'] },
  { code: 'eu-south-2', areas: EUROPE, places: ['Spain'] },
  { code: 'af-south-1', areas: ['Africa'], places: ['Cape Town'] },
  { code: 'me-south-1', areas: ['Middle East'], places: ['Bahrain'] },
  { code: 'me-central-1', areas: ['Middle East'], places: ['UAE'] },
  { code: 'me-west-1', areas: ['Middle East'], places: ['Saudi Arabia'] },
  { code: 'il-central-1', areas: ['Israel'], places: ['Tel Aviv'] },
  { code: 'ap-east-1', areas: ASIA_PACIFIC, places: ['Hong Kong'] },
  { code: 'ap-east-2', areas: ASIA_PACIFIC, places: ['Taipei'] },
  { code: 'ap-northeast-1', areas: ASIA_PACIFIC, places: ['Tokyo'] },
  { code: 'ap-northeast-2', areas: ASIA_PACIFIC, places: ['Seoul'] },
  { code: 'ap-northeast-3', areas: ASIA_PACIFIC, places: ['Osaka', 'Osaka-Local'] },
  { code: 'ap-south-1', areas: ASIA_PACIFIC, places: ['Mumbai'] },
  { code: 'ap-south-2', areas: ASIA_PACIFIC, places: ['Hyderabad'] },
  { code: 'ap-southeast-1', areas: ASIA_PACIFIC, places: ['Singapore'] },
  { code: 'ap-southeast-2', areas: ASIA_PACIFIC, places: ['Sydney'] },
  { code: 'ap-southeast-3', areas: ASIA_PACIFIC, places: ['Jakarta'] },
  { code: 'ap-southeast-4', areas: ASIA_PACIFIC, places: ['Melbourne'] },
  { code: 'ap-southeast-5', areas: ASIA_PACIFIC, places: ['Malaysia'] },
  { code: 'ap-southeast-6', areas: ASIA_PACIFIC, places: ['New Zealand'] },
  { code: 'ap-southeast-7', areas: ASIA_PACIFIC, places: ['Thailand'] },
  { code: 'cn-north-1', areas: ['China'], places: ['Beijing'] },
  { code: 'cn-northwest-1', areas: ['China'], places: ['Ningxia'] },
  {
    code: 'us-gov-west-1',
    areas: ['AWS GovCloud', 'GovCloud'],
    places: ['US-West', 'US West', 'US'],
  },
  { code: 'us-gov-east-1', areas: ['AWS GovCloud', 'GovCloud'], places: ['US-East', 'US East'] },
  { code: 'us-iso-east-1', areas: [], places: [], aliases: ['US ISO East'] },
  { code: 'us-iso-west-1', areas: [], places: [], aliases: ['US ISO West'] },
  { code: 'us-isob-east-1', areas: [], places: [], aliases: ['US ISOB East (Ohio)', 'US ISOB East'] },
  { code: 'us-isob-west-1', areas: [], places: [], aliases: ['US ISOB West'] },
  { code: 'us-isof-east-1', areas: [], places: [], aliases: ['US ISOF East'] },
  { code: 'us-isof-south-1', areas: [], places: [], aliases: ['US ISOF South'] },
  { code: 'eu-isoe-west-1', areas: [], places: [], aliases: ['EU ISOE West'] },
  { code: 'eusc-de-east-1', areas: [], places: [], aliases: ['AWS European Sovereign Cloud (Germany)'] },
];

/** Case, accents, dots, spacing and the old `Area - Place` form do not matter. */
function normaliseRegionName(name: string): string {
  const plain = name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/\./g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
  // indexOf, not `/^(.+?) - (.+)$/`, which is quadratic on a long name with many ` - ` in it.
  const dash = plain.indexOf(' - ');
  return dash > 0 && dash + 3 < plain.length && !plain.includes('(')
    ? `${plain.slice(0, dash)} (${plain.slice(dash + 3)})`
    : plain;
}

/** No region name is longer; a longer one is not looked up (normalising it would be wasted work). */
const MAX_REGION_NAME_LENGTH = 100;

const CODE_BY_NAME: ReadonlyMap<string, string> = new Map(
  REGION_NAMES.flatMap(({ code, areas, places, aliases = [] }) => [
    ...areas.flatMap((area) =>
      places.map((place) => [normaliseRegionName(`${area} (${place})`), code] as const),
    ),
    ...aliases.map((alias) => [normaliseRegionName(alias), code] as const),
  ]),
);

const REGION_CODE = /^[a-z]{2,4}(-[a-z]+)+-\d+$/;

/** Every region code this module knows a name for. */
export const KNOWN_REGION_CODES: readonly string[] = REGION_NAMES.map((r) => r.code);

/** Whether `text` has the shape of a region code such as `us-east-1` or `us-gov-west-1`. */
export function isRegionCode(text: string): boolean {
  return text.length <= 40 && REGION_CODE.test(text);
}

/** `US East (N. Virginia)`, `US - N. Virginia`, `EU (Ireland)`, `Europe (Ireland)` ... → the region code. */
export function regionCodeFromName(name: string): string | undefined {
  const trimmed = name.trim();
  if (trimmed.length > MAX_REGION_NAME_LENGTH) return undefined;
  if (isRegionCode(trimmed)) return trimmed;
  return CODE_BY_NAME.get(normaliseRegionName(trimmed));
}

const PARTITION_PREFIXES: readonly (readonly [string, string])[] = [
  ['cn-', 'aws-cn'],
  ['us-gov-', 'aws-us-gov'],
  ['us-isob-', 'aws-iso-b'],
  ['us-isof-', 'aws-iso-f'],
  ['us-iso-', 'aws-iso'],
  ['eu-isoe-', 'aws-iso-e'],
  ['eusc-', 'aws-eusc'],
];

/** The ARN partition of a region code: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, ... */
export function partitionForRegion(code: string): string {
  return PARTITION_PREFIXES.find(([prefix]) => code.startsWith(prefix))?.[1] ?? 'aws';
}

const CONSOLE_HOSTS: Readonly<Record<string, string>> = {
  aws: 'console.aws.amazon.com',
  'aws-cn': 'console.amazonaws.cn',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
};

/** Whether `text` is an https link into the AWS console (`console.aws.amazon.com` or a region's subdomain of it). */
export function isAwsConsoleUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.port !== '')
    return false;
  return Object.values(CONSOLE_HOSTS).some(
    (host) => url.hostname === host || url.hostname.endsWith(`.${host}`),
  );
}

/**
 * The AWS console host for a partition (`aws-cn`) or a region code (`cn-north-1`); undefined for partitions
 * whose console is not on the public internet (ISO) or not known here (European Sovereign Cloud).
 */
export function consoleHostFor(partitionOrRegion: string): string | undefined {
  const partition = partitionOrRegion.startsWith('aws')
    ? partitionOrRegion
    : partitionForRegion(partitionOrRegion);
  return CONSOLE_HOSTS[partition];
}
