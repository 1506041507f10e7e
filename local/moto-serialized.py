#!/usr/bin/env python3
"""moto's server (all services) answering one request at a time.

Plain `moto_server` handles requests on threads, and its DynamoDB checks a ConditionExpression and applies the
update as separate steps: two concurrent conditional writes to one item can both pass, which real DynamoDB never
allows. Ordering and concurrency tests need a linearizable store, so every request here runs under one lock,
including the production of its response body. Connections are still accepted on threads, so an idle keep-alive
connection never blocks the others.

usage: moto-serialized.py [--host 127.0.0.1] [--port 0] [--exit-with-stdin]
Prints "moto-serialized listening on http://HOST:PORT" on stdout once it accepts connections (--port 0 picks a
free port, and that line says which).
"""
import argparse
import os
import signal
import sys
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


class Serialized:
    """WSGI middleware: one request at a time, response body included (moto may build it lazily)."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


def exit_when_stdin_closes():
    """The parent holds our stdin open; when it dies, even by SIGKILL, the pipe closes and so do we."""
    try:
        while sys.stdin.buffer.read(65536):
            pass
    finally:
        os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--exit-with-stdin", action="store_true", help="exit when stdin reaches end of file")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # state is in memory only: nothing to flush
    app = Serialized(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True)
    port = server.socket.getsockname()[1]
    # moto builds some URLs (SQS queue URLs, Lambda endpoints) from MOTO_PORT, as moto_server sets it.
    os.environ["MOTO_PORT"] = str(port)
    if args.exit_with_stdin:
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(f"moto-serialized listening on http://{args.host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
