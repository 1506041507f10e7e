// The undici pieces the PagerDuty client uses, loaded from their modules: undici's index also loads fetch,
// WebSocket, caches and mocks (about 400 KB of the bundle and of cold-start parse time) that we never call.
import type { Agent as UndiciAgent, Dispatcher, errors as undiciErrors } from 'undici';
import AgentModule from 'undici/lib/dispatcher/agent';
import requestModule from 'undici/lib/api/api-request';
import errorsModule from 'undici/lib/core/errors';

export const Agent = AgentModule as typeof UndiciAgent;
export type Agent = UndiciAgent;
export const errors = errorsModule as typeof undiciErrors;

/** `agent.request(options)` without undici's index, which attaches the API methods to every dispatcher. */
export function request(agent: Agent, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return (
    requestModule as (this: Agent, o: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>
  ).call(agent, options);
}
