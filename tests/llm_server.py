"""A fake OpenAI-compatible chat-completions server on 127.0.0.1 for the LLM failure tests.

``mode`` chooses every answer: ``ok`` (a valid summary JSON), an HTTP status (``401``, ``404``, ``429``,
``500``…) with an OpenAI-style error body, or ``hang`` (read the request, never answer until the server
is closed). Every request is counted; ``headers`` keeps the last request's headers.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER = {
    "title": "Notifier reports success on failed sends",
    "summary": "The notify tool fails quietly while its span says OK.",
    "mechanism": "Errors are returned in the result body, not the span status.",
    "recommended_fix": "Mark the span as an error when the send fails.",
    "exemplar_refs": ["E1"],
}


class FakeLLM:
    def __init__(self, mode: str | int = "ok") -> None:
        self.mode = mode
        self.requests = 0
        self.headers: dict[str, str] = {}
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()  # hanging handlers return, then the server stops
        self.server.shutdown()
        self.server.server_close()


def _completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_700_000_000, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": json.dumps(ANSWER)}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with fake.lock:
                fake.requests += 1
                fake.headers = dict(self.headers)
            if fake.mode == "hang":
                fake.release.wait()
                return
            if fake.mode == "ok":
                model = str(json.loads(body or b"{}").get("model", "fake"))
                self._send(200, _completion(model))
                return
            status = int(fake.mode)
            self._send(status, {"error": {"message": f"fake error {status}", "type": "fake", "code": str(status)}})

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
