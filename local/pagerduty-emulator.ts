import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** PagerDuty's documented limit on a whole event. */
export const MAX_EVENT_BYTES = 512 * 1024;
const MAX_BUFFERED_BYTES = 4 * MAX_EVENT_BYTES;

export type Fault =
  | { readonly status: 400 | 429 | 500 | 502 | 503 }
  | { readonly delayMs: number }
  /** Destroy the socket without answering; the event is not ingested. */
  | 'reset'
  /** Ingest the event, then destroy the socket: the sender cannot know it was delivered. */
  | 'reset-after-ingest'
  /** Never answer (until stop). */
  | 'hang';

export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';
export type AlertAction = 'trigger' | 'acknowledge' | 'resolve';

/** A request body as PagerDuty receives it: only the fields the emulator reads are typed. */
export interface EventBody {
  readonly routing_key: string;
  readonly event_action?: AlertAction;
  readonly dedup_key?: string;
  readonly payload?: {
    readonly summary?: string;
    readonly source?: string;
    readonly severity?: string;
    readonly timestamp?: string;
    readonly custom_details?: Record<string, unknown>;
    readonly [field: string]: unknown;
  };
  readonly [field: string]: unknown;
}

export interface ReceivedRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  /** Parsed JSON, or the raw text when it is not JSON (cut to 1 KB when over the size limit). */
  readonly body: unknown;
  readonly bytes: number;
  readonly at: number;
  status: number | 'pending' | 'reset' | 'hang';
  fault?: Fault;
}

export interface Incident {
  readonly id: string;
  readonly routingKey: string;
  readonly dedupKey: string;
  status: IncidentStatus;
  alertCount: number;
  readonly openedAt: number;
  acknowledgedAt?: number;
  resolvedAt?: number;
  /** Summary and severity of the trigger that opened the incident; later triggers only join it. */
  readonly summary: string;
  readonly severity: string;
  lastEvent: EventBody;
}

export interface IncidentFilter {
  readonly routingKey?: string;
  readonly dedupKey?: string;
}

/** Requests captured by `holdNext`: they wait before being processed until `release()`. */
export interface RequestHold {
  /** Resolves once all the requests this hold captures have arrived. */
  readonly arrived: Promise<ReceivedRequest[]>;
  release(): void;
}

export interface PagerDutyEmulatorOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Delay before every request is processed and answered. @default 0 */
  readonly latencyMs?: number;
  /** Events admitted per routing key within `rateWindowMs`; further ones get 429. @default undefined (no limit) */
  readonly rateLimitPerMinute?: number;
  /** Length of the sliding rate-limit window; shorten it to compress time in tests. @default 60000 */
  readonly rateWindowMs?: number;
  /** Clock for timestamps and the rate window. @default Date.now */
  readonly now?: () => number;
  /** Awaited before each event request is processed: lets a test reorder requests. */
  readonly beforeProcess?: (request: ReceivedRequest) => Promise<void> | void;
  readonly log?: (line: string) => void;
}

interface Answer {
  readonly status: number;
  readonly body: object;
  readonly statusMessage?: string;
  /** What happened, for the log line. */
  readonly note?: string;
}

interface Hold {
  remaining: number;
  readonly captured: ReceivedRequest[];
  readonly gate: Promise<void>;
  readonly open: () => void;
  readonly onFull: (requests: ReceivedRequest[]) => void;
}

const invalid = (errors: string[]): Answer => ({
  status: 400,
  body: { status: 'invalid event', message: 'Event object is invalid', errors },
  note: errors.join('; '),
});
// PagerDuty documents "429 - Request Limit Exceeded" without a body; the body is the Events API's own throttle text.
const THROTTLED: Answer = {
  status: 429,
  statusMessage: 'Request Limit Exceeded',
  body: {
    status: 'throttle exceeded',
    message: 'Requests for this service are arriving too quickly. Please retry later.',
  },
  note: 'throttled',
};
// The OpenAPI document's own example of an error response.
const UNPARSEABLE: Answer = {
  status: 400,
  body: {
    status: 'Unrecognized object',
    message: 'Event object format is unrecognized',
    errors: ['JSON parse error'],
  },
  note: 'JSON parse error',
};

function faultAnswer(status: 400 | 429 | 500 | 502 | 503): Answer {
  if (status === 429) return THROTTLED;
  if (status === 400) return invalid(['Injected fault: 400']);
  return { status, body: { status: 'error', message: `Injected fault: HTTP ${status}` } };
}

function withoutOpenApiExtras(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutOpenApiExtras);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => !key.startsWith('x-') && key !== 'example')
      .map(([key, value]) => [key, withoutOpenApiExtras(value)]),
  );
}

/** The parts of the OpenAPI document the validators read. */
interface OpenApiDocument {
  readonly components: unknown;
  readonly paths: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
}

function compileRequestValidators(): { alert: ValidateFunction; change: ValidateFunction } {
  const spec = JSON.parse(
    readFileSync(join(__dirname, '..', 'spec', 'pagerduty-events-v2.openapi.json'), 'utf8'),
  ) as OpenApiDocument;
  const components = withoutOpenApiExtras(spec.components);
  const ajv = new Ajv({ allErrors: true });
  addFormats(ajv);
  // `#/components/schemas/...` refs resolve inside the compiled root, so each root carries the components.
  ajv.addVocabulary(['components']);
  const compile = (path: string): ValidateFunction => {
    const schema = spec.paths[path]!.post.requestBody.content['application/json']!.schema;
    return ajv.compile({ ...(withoutOpenApiExtras(schema) as object), components });
  };
  return { alert: compile('/enqueue'), change: compile('/change/enqueue') };
}

let validators: { alert: ValidateFunction; change: ValidateFunction } | undefined;

function fieldName(instancePath: string, property?: string): string {
  const parts = [...instancePath.split('/').slice(1), ...(property === undefined ? [] : [property])];
  return parts.reduce(
    (name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part),
    '',
  );
}

function describeSchemaError(error: ErrorObject): string {
  const field = fieldName(error.instancePath);
  switch (error.keyword) {
    case 'required':
      return `'${fieldName(error.instancePath, String(error.params.missingProperty))}' is missing or blank`;
    case 'enum':
      return `'${field}' is invalid (must be one of: ${(error.params.allowedValues as string[]).join(', ')})`;
    default:
      return `'${field}' ${error.message ?? 'is invalid'}`;
  }
}

const isBlank = (value: unknown): boolean =>
  value === undefined || (typeof value === 'string' && value.trim() === '');

/** The reasons PagerDuty would refuse this event: the OpenAPI schema plus the documented limits. */
export function validateEvent(kind: 'alert' | 'change', body: unknown): string[] {
  validators ??= compileRequestValidators();
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return ['Event must be a JSON object'];
  const validate = validators[kind];
  const errors = validate(body) ? [] : (validate.errors ?? []).map(describeSchemaError);
  const event = body as Partial<EventBody> & { images?: unknown };
  if (typeof event.routing_key === 'string' && event.routing_key.length !== 32) {
    errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  }
  if (typeof event.payload?.summary === 'string' && event.payload.summary.length > 1024) {
    errors.push("'summary' is too long (maiximum is 1024 characters)"); // PagerDuty's wording, typo included
  }
  if (Array.isArray(event.images)) {
    event.images.forEach((image: { src?: unknown }, i) => {
      if (typeof image?.src === 'string' && !image.src.startsWith('https://')) {
        errors.push(`'images[${i}].src' must be an https URL`);
      }
    });
  }
  if (kind === 'alert') {
    if (typeof event.dedup_key === 'string' && event.dedup_key.length > 255) {
      errors.push("'dedup_key' is too long (maximum is 255 characters)");
    }
    if (event.event_action === 'trigger') {
      if (event.payload === undefined) errors.push("'payload' is missing or blank");
      for (const field of ['summary', 'source', 'severity'] as const) {
        if (typeof event.payload?.[field] === 'string' && isBlank(event.payload[field])) {
          errors.push(`'payload.${field}' is missing or blank`);
        }
      }
    } else if (event.event_action !== undefined && isBlank(event.dedup_key)) {
      errors.push("'dedup_key' is missing or blank");
    }
  }
  return [...new Set(errors)];
}

/** A local PagerDuty Events API v2: validates like PagerDuty, keeps incidents, and injects faults on demand. */
export class PagerDutyEmulator {
  latencyMs: number;
  rateLimitPerMinute: number | undefined;
  rateWindowMs: number;
  beforeProcess: PagerDutyEmulatorOptions['beforeProcess'];
  /** Every request received, in arrival order, whatever its fate. */
  readonly requests: ReceivedRequest[] = [];
  /** Alert events ingested (answered 202), in ingestion order; `dedup_key` filled in when PagerDuty made one. */
  readonly accepted: EventBody[] = [];
  /** Change events ingested, in ingestion order. */
  readonly changeEvents: EventBody[] = [];

  private allIncidents: Incident[] = [];
  private admitted = new Map<string, number[]>();
  private faults: Fault[] = [];
  private alwaysFault: Fault | undefined;
  private holds: Hold[] = [];
  private nextIncident = 1;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  private stopping = false;
  private readonly now: () => number;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    options: PagerDutyEmulatorOptions,
  ) {
    this.latencyMs = options.latencyMs ?? 0;
    this.rateLimitPerMinute = options.rateLimitPerMinute;
    this.rateWindowMs = options.rateWindowMs ?? 60_000;
    this.beforeProcess = options.beforeProcess;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        // A throwing beforeProcess hook must fail its request, not the process.
        this.log(`500 ${req.url}: ${String(error)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'error', message: String(error) }));
      });
    });
  }

  static async start(options: PagerDutyEmulatorOptions = {}): Promise<PagerDutyEmulator> {
    validators ??= compileRequestValidators();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new PagerDutyEmulator(server, `http://127.0.0.1:${port}`, options);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const { timer, done } of this.timers) {
      clearTimeout(timer);
      done();
    }
    this.holds.forEach((hold) => hold.open());
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.sockets.forEach((socket) => socket.destroy());
    await closed;
  }

  /** The next `count` event requests fail with `fault` instead of being processed. */
  failNext(count: number, fault: Fault): void {
    this.faults.push(...Array<Fault>(count).fill(fault));
  }

  failAlways(fault: Fault): void {
    this.alwaysFault = fault;
  }

  clearFaults(): void {
    this.faults = [];
    this.alwaysFault = undefined;
  }

  /** Capture the next `count` event requests before they are processed, until `release()`. */
  holdNext(count = 1): RequestHold {
    let open = (): void => undefined;
    let onFull: (requests: ReceivedRequest[]) => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const arrived = new Promise<ReceivedRequest[]>((resolve) => (onFull = resolve));
    const hold: Hold = { remaining: count, captured: [], gate, open, onFull };
    this.holds.push(hold);
    return {
      arrived,
      release: () => {
        hold.remaining = 0;
        this.holds = this.holds.filter((other) => other !== hold);
        open();
      },
    };
  }

  incidents(filter: IncidentFilter = {}): Incident[] {
    return this.allIncidents
      .filter((i) => filter.routingKey === undefined || i.routingKey === filter.routingKey)
      .filter((i) => filter.dedupKey === undefined || i.dedupKey === filter.dedupKey)
      .map((incident) => ({ ...incident }));
  }

  openIncidents(filter: IncidentFilter = {}): Incident[] {
    return this.incidents(filter).filter((incident) => incident.status !== 'resolved');
  }

  /** A person resolves an incident in PagerDuty's web app: no event arrives, the incident just ends. */
  resolveByHand(incidentId: string): void {
    const incident = this.allIncidents.find((i) => i.id === incidentId);
    if (!incident) throw new Error(`No incident ${incidentId}`);
    incident.status = 'resolved';
    incident.resolvedAt = this.now();
    this.log(`resolved by hand ${incident.id} dedup=${incident.dedupKey}`);
  }

  /** Forget all events, incidents, faults, holds (released) and counters; settings such as latency stay. */
  reset(): void {
    this.requests.length = 0;
    this.accepted.length = 0;
    this.changeEvents.length = 0;
    this.allIncidents = [];
    this.admitted.clear();
    this.clearFaults();
    this.holds.forEach((hold) => hold.open());
    this.holds = [];
    this.nextIncident = 1;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const chunks: Buffer[] = [];
    let bytes = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes <= MAX_BUFFERED_BYTES) chunks.push(chunk);
      }
    } catch {
      return; // the client went away mid-body
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const parsed = bytes > MAX_EVENT_BYTES ? undefined : parseJson(text);
    const request: ReceivedRequest = {
      seq: this.requests.length + 1,
      method: req.method ?? 'GET',
      path,
      body: parsed?.ok ? parsed.value : text.slice(0, bytes > MAX_EVENT_BYTES ? 1024 : undefined),
      bytes,
      at: this.now(),
      status: 'pending',
    };
    this.requests.push(request);
    const isEventRoute = path === '/v2/enqueue' || path === '/v2/change/enqueue';
    const fault = isEventRoute ? (this.faults.shift() ?? this.alwaysFault) : undefined;
    if (fault !== undefined) request.fault = fault;
    const hold = isEventRoute ? this.capture(request) : undefined;

    await this.sleep(this.latencyMs + (typeof fault === 'object' && 'delayMs' in fault ? fault.delayMs : 0));
    if (hold) await hold.gate;
    if (isEventRoute) await this.beforeProcess?.(request);
    if (this.stopping) return;

    if (fault === 'reset' || fault === 'hang') {
      request.status = fault;
      this.logRequest(request, fault === 'reset' ? 'fault: socket reset' : 'fault: hanging until stop');
      if (fault === 'reset') req.socket.destroy();
      return;
    }
    const answer =
      typeof fault === 'object' && 'status' in fault
        ? { ...faultAnswer(fault.status), note: `fault: HTTP ${fault.status}` }
        : this.process(request.method, path, bytes, parsed);
    if (fault === 'reset-after-ingest') {
      request.status = 'reset';
      this.logRequest(request, `${answer.note}; fault: socket reset after processing`);
      req.socket.destroy();
      return;
    }
    request.status = answer.status;
    this.logRequest(request, answer.note);
    if (answer.statusMessage) res.statusMessage = answer.statusMessage;
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  }

  private capture(request: ReceivedRequest): Hold | undefined {
    const hold = this.holds.find((candidate) => candidate.remaining > 0);
    if (!hold) return undefined;
    hold.captured.push(request);
    hold.remaining -= 1;
    if (hold.remaining === 0) hold.onFull([...hold.captured]);
    return hold;
  }

  private process(method: string, path: string, bytes: number, parsed: Parsed | undefined): Answer {
    const kind = path === '/v2/enqueue' ? 'alert' : path === '/v2/change/enqueue' ? 'change' : undefined;
    if (kind === undefined)
      return { status: 404, body: { status: 'not found', message: `No route ${path}` } };
    if (method !== 'POST')
      return { status: 405, body: { status: 'method not allowed', message: 'Use POST' } };
    if (parsed === undefined) {
      return invalid([`Event object is too large: ${bytes} bytes (maximum is ${MAX_EVENT_BYTES} bytes)`]);
    }
    if (!parsed.ok) return UNPARSEABLE;
    const errors = validateEvent(kind, parsed.value);
    if (errors.length > 0) return invalid(errors);
    const event = parsed.value as EventBody;
    // Only admitted events count towards the window: a throttled sender is not punished further.
    if (!this.admit(event.routing_key)) return THROTTLED;
    return kind === 'change' ? this.ingestChange(event) : this.ingestAlert(event);
  }

  private admit(routingKey: string): boolean {
    if (this.rateLimitPerMinute === undefined) return true;
    const now = this.now();
    const recent = (this.admitted.get(routingKey) ?? []).filter((at) => at > now - this.rateWindowMs);
    const admitted = recent.length < this.rateLimitPerMinute;
    if (admitted) recent.push(now);
    this.admitted.set(routingKey, recent);
    return admitted;
  }

  private ingestChange(event: EventBody): Answer {
    this.changeEvents.push(event);
    return {
      status: 202,
      body: { status: 'success', message: 'Change event processed' },
      note: `recorded: ${event.payload?.summary}`,
    };
  }

  private ingestAlert(event: EventBody): Answer {
    const action = event.event_action as AlertAction;
    // Like PagerDuty: a trigger without a dedup key gets a fresh one, so it always opens a new incident.
    const dedupKey = isBlank(event.dedup_key)
      ? randomUUID().replaceAll('-', '')
      : (event.dedup_key as string);
    this.accepted.push({ ...event, dedup_key: dedupKey });
    const now = this.now();
    const open = this.allIncidents.find(
      (i) => i.routingKey === event.routing_key && i.dedupKey === dedupKey && i.status !== 'resolved',
    );
    let incident: Incident | undefined = open;
    let outcome: 'opened' | 'joined' | 'acknowledged' | 'resolved' | 'dropped';
    if (action === 'trigger' && open) {
      open.alertCount += 1;
      outcome = 'joined';
    } else if (action === 'trigger') {
      incident = {
        id: `PINC${String(this.nextIncident++).padStart(4, '0')}`,
        routingKey: event.routing_key,
        dedupKey,
        status: 'triggered',
        alertCount: 1,
        openedAt: now,
        summary: event.payload?.summary ?? '',
        severity: event.payload?.severity ?? '',
        lastEvent: event,
      };
      this.allIncidents.push(incident);
      outcome = 'opened';
    } else if (open && action === 'acknowledge') {
      if (open.status === 'triggered') open.acknowledgedAt = now;
      open.status = 'acknowledged';
      outcome = 'acknowledged';
    } else if (open) {
      open.status = 'resolved';
      open.resolvedAt = now;
      outcome = 'resolved';
    } else {
      outcome = 'dropped'; // acknowledge/resolve with no open incident: PagerDuty accepts and drops it
    }
    if (incident) incident.lastEvent = event;
    const state = incident
      ? `${incident.id} ${incident.status}, ${incident.alertCount} alert(s)`
      : 'no open incident';
    return {
      status: 202,
      body: { status: 'success', message: 'Event processed', dedup_key: dedupKey },
      note: `${outcome} -> ${state}`,
    };
  }

  private logRequest(request: ReceivedRequest, note = ''): void {
    const body = (
      typeof request.body === 'object' && request.body !== null ? request.body : {}
    ) as Partial<EventBody>;
    const action = request.path === '/v2/change/enqueue' ? 'change' : (body.event_action ?? request.path);
    this.log(`${request.status} ${action} dedup=${body.dedup_key ?? '-'} ${note}`.trimEnd());
  }

  /** A delay that ends early when the emulator stops, so nothing outlives `stop()`. */
  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = { timer: setTimeout(() => (this.timers.delete(entry), resolve()), ms), done: resolve };
      this.timers.add(entry);
    });
  }
}

type Parsed = { ok: true; value: unknown } | { ok: false };

function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8787' },
      'latency-ms': { type: 'string', default: '0' },
      'rate-limit-per-minute': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const rateLimit = values['rate-limit-per-minute'];
  const emulator = await PagerDutyEmulator.start({
    port: Number(values.port),
    latencyMs: Number(values['latency-ms']),
    rateLimitPerMinute: rateLimit === undefined ? undefined : Number(rateLimit),
    log: values.quiet ? undefined : (line) => console.log(`[pagerduty] ${line}`),
  });
  console.log(
    `PagerDuty Events API v2 emulator listening on ${emulator.url} (POST /v2/enqueue, /v2/change/enqueue)`,
  );
  const shutdown = (): void => void emulator.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
