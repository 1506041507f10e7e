// undici ships no types for its internal modules; lambda/pagerduty/http-agent.ts casts them to the public types.
declare module 'undici/lib/dispatcher/agent' {
  const Agent: unknown;
  export default Agent;
}
declare module 'undici/lib/api/api-request' {
  const request: unknown;
  export default request;
}
declare module 'undici/lib/core/errors' {
  const errors: unknown;
  export default errors;
}
