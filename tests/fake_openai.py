"""A real, scripted OpenAI-compatible HTTP server for the tests.

No model is reachable from tests or CI, so this server stands in for one: it listens on
127.0.0.1 (random port) and implements `/v1/chat/completions` (plain JSON and streaming SSE) and
`/v1/embeddings`. The product's real client code (openai + langchain-openai) talks to it over
HTTP. A test scripts what it answers with rules (a predicate on the request and the replies),
and reads back every request it received.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


Matcher = Callable[[dict[str, Any]], bool]


def system_text(request: dict[str, Any]) -> str:
    return " ".join(m.get("content", "") for m in request.get("messages", [])
                    if m.get("role") == "system" and isinstance(m.get("content"), str))


def user_text(request: dict[str, Any]) -> str:
    return " ".join(m.get("content", "") for m in request.get("messages", [])
                    if m.get("role") in ("user", "human") and isinstance(m.get("content"), str))


def asks_for_sql(request: dict[str, Any]) -> bool:
    return "PostgreSQL" in system_text(request) and "Question:" in user_text(request)


def asks_for_route(request: dict[str, Any]) -> bool:
    return "You route questions" in system_text(request)


def asks_for_summary(request: dict[str, Any]) -> bool:
    return "summarize a query result" in system_text(request)


def asks_about_documents(request: dict[str, Any]) -> bool:
    return "<passages>" in user_text(request)


class FakeOpenAI:
    """Start with `with FakeOpenAI() as fake:`; `fake.base_url` goes in SOURCED_LLM_BASE_URL."""

    def __init__(self) -> None:
        self.rules: list[tuple[Matcher, list[Reply]]] = []
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        # The Authorization header of every request, as received: which key reached this server.
        self.authorizations: list[str | None] = []
        self.embedding_dim = 64
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ------------------------------------------------------------ scripting

    def on(self, matcher: Matcher, *replies: Reply | str) -> FakeOpenAI:
        """Answer requests matching `matcher` with these replies in turn (the last one repeats)."""
        queue = [r if isinstance(r, Reply) else Reply(r) for r in replies]
        with self._lock:
            self.rules.append((matcher, queue))
        return self

    def chat_requests(self, matcher: Matcher | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r, p in zip(self.requests, self.paths, strict=True)
                    if p.endswith("/chat/completions") and (matcher is None or matcher(r))]

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------ serving

    def _reply_for(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            for matcher, queue in self.rules:
                if matcher(request):
                    return queue.pop(0) if len(queue) > 1 else queue[0]
        return Reply("I have no script for this request.")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    request = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._json(400, {"error": {"message": "bad json"}})
                    return
                with fake._lock:
                    fake.requests.append(request)
                    fake.paths.append(self.path)
                    fake.authorizations.append(self.headers.get("Authorization"))
                if self.path.endswith("/embeddings"):
                    self._embeddings(request)
                elif self.path.endswith("/chat/completions"):
                    self._chat(request, fake._reply_for(request))
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

            def _json(self, status: int, body: dict[str, Any],
                      headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def _embeddings(self, request: dict[str, Any]) -> None:
                inputs = request.get("input")
                texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
                data = []
                for i, text in enumerate(texts):
                    vector = _hash_vector(str(text), fake.embedding_dim)
                    if request.get("encoding_format") == "base64":
                        value: Any = base64.b64encode(vector.astype("<f4").tobytes()).decode()
                    else:
                        value = vector.tolist()
                    data.append({"object": "embedding", "index": i, "embedding": value})
                self._json(200, {"object": "list", "data": data, "model": request.get("model"),
                                 "usage": {"prompt_tokens": 1, "total_tokens": 1}})

            def _chat(self, request: dict[str, Any], reply: Reply) -> None:
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.status != 200:
                    self._json(reply.status, {"error": {"message": reply.content or "failure",
                                                        "type": "server_error"}}, reply.headers)
                    return
                model = request.get("model", "fake")
                usage = {"prompt_tokens": 11, "completion_tokens": max(1, len(reply.content) // 4),
                         "total_tokens": 11 + max(1, len(reply.content) // 4)}
                ident = f"chatcmpl-{uuid.uuid4().hex[:12]}"
                if not request.get("stream"):
                    self._json(200, {
                        "id": ident, "object": "chat.completion", "created": int(time.time()),
                        "model": model,
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": reply.content}}],
                        "usage": usage,
                    })
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = [reply.content[i:i + 5] for i in range(0, len(reply.content), 5)]

                def event(payload: dict[str, Any] | str) -> None:
                    text = payload if isinstance(payload, str) else json.dumps(payload)
                    self.wfile.write(f"data: {text}\n\n".encode())
                    self.wfile.flush()

                base = {"id": ident, "object": "chat.completion.chunk",
                        "created": int(time.time()), "model": model}
                try:
                    event({**base, "choices": [{"index": 0, "delta": {"role": "assistant",
                                                                       "content": ""},
                                                "finish_reason": None}]})
                    for piece in pieces:
                        event({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                                    "finish_reason": None}]})
                    event({**base, "choices": [{"index": 0, "delta": {},
                                                "finish_reason": "stop"}]})
                    if (request.get("stream_options") or {}).get("include_usage"):
                        event({**base, "choices": [], "usage": usage})
                    event("[DONE]")
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        return Handler


def _hash_vector(text: str, dim: int) -> np.ndarray:
    """A deterministic unit vector per text (bag of hashed words, so similar texts are close)."""
    vector = np.zeros(dim, dtype=np.float32)
    for word in text.lower().split():
        vector[zlib.crc32(word.encode()) % dim] += 1.0
    norm = float(np.linalg.norm(vector)) or 1.0
    return vector / norm
