import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { nagText } from './private/nag-text';
import { bundledFunction, type BundledFunctionParts } from './private/bundled-function';
import { grantSecretValue } from './private/handler-grants';

/** Must match lambda/graphs/image-token.ts: where the PNGs are kept. */
const IMAGE_PREFIX = 'graphs/';

/** The settings of the metric graphs a user chooses: `AlarmToPagerDuty`'s `metricGraphs` takes them. */
export interface MetricGraphSettings {
  /**
   * How long a link to a graph works (PagerDuty's apps show the image while the link works). At least 7 days.
   * Objects are deleted a day after their links expire.
   * @default Duration.days(14)
   */
  readonly linkTtl?: Duration;
  /**
   * The longest a page waits for its graphs; after it, the event goes without them.
   * @default Duration.seconds(1)
   */
  readonly timeout?: Duration;
  /**
   * `observability` when this account is a CloudWatch cross-account observability monitoring account for the
   * accounts whose alarms publish here: their graphs are drawn with those accounts' metrics. `skip`: alarms of
   * other accounts get no graph.
   * @default 'skip'
   */
  readonly crossAccount?: 'skip' | 'observability';
}

/** Properties of {@link MetricGraphImages}; `AlarmToPagerDuty` creates it with `metricGraphs`. */
export interface MetricGraphImagesProps extends MetricGraphSettings {
  /** The alarm handler: it renders the graphs, stores them and signs their links. */
  readonly handler: lambda.Function;
  /**
   * Retention of the image endpoint's log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the image bucket and the signing key when they are removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Bundle the AWS SDK into the endpoint function.
   * @default true
   */
  readonly bundleAwsSdk?: boolean;
  /**
   * The endpoint function's runtime: Node.js 24 or newer (the bundle's target).
   * @default lambda.Runtime.NODEJS_24_X
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Reserved concurrency of the public image endpoint: a flood of requests is throttled there instead of taking the
   * account's unreserved concurrency from the alarm handler. Lambda keeps 100 unreserved, so this needs an account
   * concurrency quota of at least 100 plus this (new accounts may have less; ask for an increase).
   * @default 2
   */
  readonly endpointConcurrency?: number;
}

/**
 * Metric graph images for PagerDuty incidents: a private bucket for the PNGs (expiring), an HMAC key in Secrets
 * Manager, and an image endpoint (Lambda function URL, auth NONE) that answers a PNG only for a signed, unexpired
 * link. The alarm handler gets the permissions and the environment to render, store and sign.
 */
export class MetricGraphImages extends Construct {
  /** The private bucket holding the PNGs; `graphs/` objects are deleted a day after their links expire. */
  public readonly bucket: s3.Bucket;
  /** The HMAC key that signs image links. */
  public readonly signingKey: secretsmanager.Secret;
  /** The image endpoint: answers a PNG for a signed, unexpired link, 403 otherwise. */
  public readonly endpoint: NodejsFunction;
  /** The endpoint's function URL (auth NONE: the link's signature is the check). */
  public readonly endpointUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: MetricGraphImagesProps) {
    super(scope, id);
    const settings = checkedSettings(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.bucket = this.createBucket(settings.ttlDays, removalPolicy);
    this.signingKey = new secretsmanager.Secret(this, 'SigningKey', {
      description: 'HMAC key that signs links to metric graph images in PagerDuty incidents',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    const { function: endpoint, role } = this.createEndpoint(props, settings.endpointConcurrency);
    this.endpoint = endpoint;
    // Public by design: the link's HMAC token is the authentication (PagerDuty's apps fetch images without AWS
    // credentials). Everything without a valid, unexpired token gets 403.
    this.endpointUrl = this.endpoint.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    this.allowEndpointToRead(role);
    const describeAlarmsArn = this.allowHandlerToRender(props.handler);
    this.configureHandler(props.handler, settings, props.crossAccount ?? 'skip');
    this.acknowledgeNagFindings(role, props.handler, describeAlarmsArn);
  }

  /** Private, TLS-only, and emptied of graphs a day after their links expire. */
  private createBucket(ttlDays: number, removalPolicy: RemovalPolicy): s3.Bucket {
    return new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false,
      lifecycleRules: [
        { id: 'ExpireGraphs', prefix: IMAGE_PREFIX, expiration: Duration.days(ttlDays + 1) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
  }

  private createEndpoint(props: MetricGraphImagesProps, endpointConcurrency: number): BundledFunctionParts {
    return bundledFunction(this, {
      fn: 'image-endpoint',
      ids: { logs: 'EndpointLogs', role: 'EndpointRole', function: 'Endpoint' },
      roleDescription: 'alarm-to-PagerDuty metric graph image endpoint',
      description: 'Answers metric graph PNGs for signed, unexpired links (PagerDuty incidents)',
      bundleAwsSdk: props.bundleAwsSdk,
      logRetention: props.logRetention,
      runtime: props.runtime,
      memorySize: 256,
      timeout: Duration.seconds(10),
      reservedConcurrentExecutions: endpointConcurrency,
      environment: {
        IMAGE_BUCKET: this.bucket.bucketName,
        IMAGE_TOKEN_SECRET_ID: this.signingKey.secretArn,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
  }

  /** The endpoint reads graphs and the signing key, nothing else. */
  private allowEndpointToRead(role: iam.Role): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadGraphs',
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${IMAGE_PREFIX}*`)],
      }),
    );
    // A valid link to an object the lifecycle rule deleted is a 404, not S3's AccessDenied (a 502 from the endpoint).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TellMissingGraphs',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
    );
    grantSecretValue(role, this.signingKey);
  }

  /** The handler renders graphs, writes them and signs their links; returns the DescribeAlarms resource. */
  private allowHandlerToRender(handler: lambda.Function): string {
    handler.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteGraphs',
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${IMAGE_PREFIX}*`)],
      }),
    );
    // GetMetricWidgetImage has no resource-level permissions; DescribeAlarms reads a composite's children.
    handler.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RenderGraphs',
        actions: ['cloudwatch:GetMetricWidgetImage'],
        resources: ['*'],
      }),
    );
    const anyAlarm = Stack.of(this).formatArn({
      service: 'cloudwatch',
      region: '*',
      resource: 'alarm',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    handler.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadCompositeChildren',
        actions: ['cloudwatch:DescribeAlarms'],
        resources: [anyAlarm],
      }),
    );
    grantSecretValue(handler, this.signingKey);
    return anyAlarm;
  }

  /** The handler's graph settings, read by lambda/graphs at start. */
  private configureHandler(
    handler: lambda.Function,
    settings: GraphSettings,
    crossAccount: NonNullable<MetricGraphSettings['crossAccount']>,
  ): void {
    handler.addEnvironment('METRIC_GRAPHS', 'on');
    handler.addEnvironment('IMAGE_BUCKET', this.bucket.bucketName);
    handler.addEnvironment('IMAGE_URL_BASE', this.endpointUrl.url);
    handler.addEnvironment('IMAGE_TOKEN_SECRET_ID', this.signingKey.secretArn);
    handler.addEnvironment('IMAGE_LINK_TTL_DAYS', String(settings.ttlDays));
    handler.addEnvironment('IMAGE_TIMEOUT_MS', String(settings.timeoutMs));
    handler.addEnvironment('IMAGE_HOME_ACCOUNT_ID', Stack.of(this).account);
    handler.addEnvironment('METRIC_GRAPHS_CROSS_ACCOUNT', crossAccount);
  }

  private acknowledgeNagFindings(
    endpointRole: iam.Role,
    handler: lambda.Function,
    describeAlarmsArn: string,
  ): void {
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Graph images live at most a few weeks and are read only through the image endpoint: Lambda logs a REPORT ' +
        'line per invocation and the endpoint counts refusals by reason; server access logs would need a second ' +
        'bucket for little more.',
    });
    Validations.of(this.signingKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the HMAC key invalidates the links in open incidents; rotate it by hand (put-secret-value): the ' +
        'endpoint also accepts the previous version (AWSPREVIOUS), so links signed before one rotation keep working; ' +
        'two put-secret-value calls revoke a leaked key at once (README, Security).',
    });
    const stack = Stack.of(this);
    const graphObjects = `AwsSolutions-IAM5[Resource::${nagText(stack, this.bucket.arnForObjects(`${IMAGE_PREFIX}*`))}]`;
    const endpointPolicy = endpointRole.node.tryFindChild('DefaultPolicy');
    if (endpointPolicy) {
      Validations.of(endpointPolicy).acknowledge({
        id: graphObjects,
        reason: 'Reads graph objects only, under their prefix; object names are random ids.',
      });
    }
    const handlerPolicy = handler.role?.node.tryFindChild('DefaultPolicy');
    if (handlerPolicy) {
      Validations.of(handlerPolicy).acknowledge(
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'cloudwatch:GetMetricWidgetImage has no resource-level permissions.',
        },
        {
          id: graphObjects,
          reason: 'Writes graph objects only, under their prefix; object names are random ids.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::${nagText(stack, describeAlarmsArn)}]`,
          reason:
            "DescribeAlarms reads a composite alarm's children, whose names come with the notification, in any region.",
        },
      );
    }
  }
}

/** The checked numbers of a graph setup. */
interface GraphSettings {
  readonly ttlDays: number;
  readonly timeoutMs: number;
  readonly endpointConcurrency: number;
}

/** The link lifetime, the page's wait and the endpoint's concurrency, each checked against its range. */
function checkedSettings(props: MetricGraphImagesProps): GraphSettings {
  const linkTtl = props.linkTtl ?? Duration.days(14);
  const ttlDays = linkTtl.toDays({ integral: false });
  if (!Number.isInteger(ttlDays) || ttlDays < 7 || ttlDays > 365) {
    throw new Error(
      `MetricGraphImages: linkTtl must be a whole number of days from 7 to 365 (got ${linkTtl})`,
    );
  }
  const timeoutMs = (props.timeout ?? Duration.seconds(1)).toMilliseconds();
  if (timeoutMs < 50 || timeoutMs > 5000) {
    throw new Error('MetricGraphImages: timeout must be between 50 ms and 5 seconds: it delays the page');
  }
  const endpointConcurrency = props.endpointConcurrency ?? 2;
  if (!Number.isInteger(endpointConcurrency) || endpointConcurrency < 1 || endpointConcurrency > 100) {
    throw new Error(
      `MetricGraphImages: endpointConcurrency must be a whole number from 1 to 100 (got ${endpointConcurrency})`,
    );
  }
  return { ttlDays, timeoutMs, endpointConcurrency };
}
