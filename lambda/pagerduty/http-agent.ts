// One POST over Node's own http/https with a keep-alive pool: the AWS SDK's request handler already loads these
// modules, so PagerDuty costs no bundle bytes (undici was 287 KB, 29% of the bundle). What the client needs from
// HTTP: a connect timeout apart from the response timeout (a request never sent cannot land later), a reset told
// apart from a timeout, and kept-alive connections; README "Cold start" has the measurements behind the choice.
import * as http from 'node:http';
import * as https from 'node:https';

export interface PostOptions {
  readonly url: URL;
  readonly body: string;
  readonly connectTimeoutMs: number;
  /** The whole attempt, from the request to the end of the response body. */
  readonly timeoutMs: number;
}

export type PostResult =
  | { readonly kind: 'response'; readonly status: number; readonly text: string }
  | { readonly kind: 'timeout'; readonly phase: 'connect' | 'response'; readonly detail: string }
  | { readonly kind: 'connection'; readonly detail: string };

/** Keep-alive pools, one per scheme, as undici's Agent had (32 connections, idle sockets closed after 30 s). */
export class HttpPool {
  private readonly http = new http.Agent({ keepAlive: true, maxSockets: 32, timeout: 30_000 });
  private readonly https = new https.Agent({ keepAlive: true, maxSockets: 32, timeout: 30_000 });

  /** Resolves with the response or why there was none; never rejects. */
  post({ url, body, connectTimeoutMs, timeoutMs }: PostOptions): Promise<PostResult> {
    const secure = url.protocol === 'https:';
    return new Promise<PostResult>((resolve) => {
      let settled = false;
      const finish = (result: PostResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(attemptTimer);
        resolve(result);
      };
      const request = (secure ? https : http).request(url, {
        method: 'POST',
        agent: secure ? this.https : this.http,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      const fail = (result: PostResult) => {
        finish(result);
        request.destroy();
      };
      const connectTimer = setTimeout(
        () =>
          fail({ kind: 'timeout', phase: 'connect', detail: `no connection within ${connectTimeoutMs} ms` }),
        Math.min(connectTimeoutMs, timeoutMs),
      );
      const attemptTimer = setTimeout(
        () => fail({ kind: 'timeout', phase: 'response', detail: 'no response within the attempt timeout' }),
        timeoutMs,
      );
      request.on('socket', (socket) => {
        // A kept-alive socket is connected already; a new one is once TCP (and TLS) is up.
        if (!socket.connecting) return clearTimeout(connectTimer);
        socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          finish({
            kind: 'response',
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', (error) => finish(connectionFailure(error)));
      });
      request.on('error', (error) => finish(connectionFailure(error)));
      request.end(body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

function connectionFailure(error: Error): PostResult {
  const code = (error as { code?: string }).code;
  return { kind: 'connection', detail: code ? `${code}: ${error.message}` : error.message };
}
