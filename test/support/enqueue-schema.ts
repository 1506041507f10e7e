import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PagerDutyAlertEvent } from '../../lambda/pagerduty/types';

/** A 32-character routing key, as the sender adds it. */
export const ROUTING_KEY = 'e93facc04764012d7bfb002500d5d1a6';

const spec = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'spec', 'pagerduty-events-v2.openapi.json'), 'utf8'),
);
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
// The request schema refers to `#/components/schemas/...`: compile it as a root that carries the components.
const validate = ajv.compile({
  ...spec.paths['/enqueue'].post.requestBody.content['application/json'].schema,
  components: spec.components,
});

/** The schema errors of the `/enqueue` request this event becomes (routing key added); empty when valid. */
export function enqueueSchemaErrors(event: PagerDutyAlertEvent): string[] {
  if (validate({ routing_key: ROUTING_KEY, ...event })) return [];
  return (validate.errors ?? []).map(
    (error) => `${error.instancePath || '(event)'} ${error.message ?? 'is invalid'}`,
  );
}

/** PagerDuty's 512 KB limit on a whole event, read as 512,000 bytes (the stricter reading). */
export const PAGERDUTY_MAX_EVENT_BYTES = 512_000;

/** What PagerDuty receives for this event: its JSON with the routing key, in UTF-8 bytes. */
export function sentBytes(event: PagerDutyAlertEvent): number {
  return Buffer.byteLength(JSON.stringify({ routing_key: ROUTING_KEY, ...event }), 'utf8');
}
