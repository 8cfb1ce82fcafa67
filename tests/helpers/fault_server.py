"""A loopback OpenAI-compatible chat server that injects seeded API faults, for client tests."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULT_KINDS: tuple[str, ...] = ("rate_limit", "server_error", "timeout", "truncated")
"""Faults the server can inject: HTTP 429, HTTP 500, no answer in time, cut-off JSON."""

REPLY = "I am John F. Kennedy, the 35th President of the United States. It is 1962."
"""In-role text that passes the JFK persona's probes."""

_BLOCK = 10
_PATHS = ("/v1/chat/completions", "/chat/completions")


class FaultServer:
    """An OpenAI-compatible `/v1/chat/completions` endpoint on 127.0.0.1 with injected faults.

    Requests come in blocks of ten; in each, `round(10 * fault_rate)` requests at seeded random
    positions fail, so the fraction holds over any short run and consecutive failures happen.
    The kind of each fault cycles through `kinds`, so a run with at least `len(kinds)` faults
    sees every kind. Use as a context manager; the server
    thread is a daemon and every handler wakes up when the server stops, so a test that forgets
    to stop it does not hang.

    Args:
        fault_rate: fraction of requests that fail (1.0: every request).
        kinds: fault kinds to cycle through (a subset of FAULT_KINDS).
        seed: seed of the fault draw.
        timeout_sleep_s: how long a `timeout` fault stalls before answering; set it above the
            client's timeout.
        latency_s: fixed delay added to every healthy answer.
        reply: the assistant text of healthy answers.
        retry_after: the `retry-after` header of rate-limit answers (seconds or an HTTP date).
        echo_key: healthy answers repeat the bearer token the request carried (a server that
            leaks the client's API key into the text).
    """

    def __init__(self, fault_rate: float = 0.2, kinds: Sequence[str] = FAULT_KINDS,
                 seed: int = 0, timeout_sleep_s: float = 1.5, latency_s: float = 0.0,
                 reply: str = REPLY, retry_after: str = "0", echo_key: bool = False):
        unknown = sorted(set(kinds) - set(FAULT_KINDS))
        if unknown or not kinds:
            raise ValueError(f"kinds: unknown or empty {unknown or list(kinds)}")
        self.fault_rate = fault_rate
        self.kinds = tuple(kinds)
        self.timeout_sleep_s = timeout_sleep_s
        self.latency_s = latency_s
        self.reply = reply
        self.retry_after = retry_after
        self.echo_key = echo_key
        self.requests = 0
        """Chat-completion requests received."""
        self.faults: Counter[str] = Counter()
        """Faults injected, by kind."""
        self.authorizations: set[str] = set()
        """Authorization headers seen (to check which key the client sent)."""
        self._rng = random.Random(seed)
        self._block: list[bool] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (`http://127.0.0.1:<port>/v1`)."""
        if self._server is None:
            raise RuntimeError("server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FaultServer:
        """Bind a free loopback port and serve in a daemon thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fault-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake stalled handlers and release the port."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def draw(self) -> str | None:
        """Count one request and decide its fault (None: answer normally)."""
        with self._lock:
            self.requests += 1
            if not self._block:
                failing = set(self._rng.sample(range(_BLOCK), round(_BLOCK * self.fault_rate)))
                self._block = [i in failing for i in range(_BLOCK)]
            if not self._block.pop(0):
                return None
            kind = self.kinds[sum(self.faults.values()) % len(self.kinds)]
            self.faults[kind] += 1
            return kind

    def completion(self, request: dict[str, Any], authorization: str = "") -> dict[str, Any]:
        """A valid chat.completion body answering `request` (sent with `authorization`)."""
        reply = self.reply
        if self.echo_key:
            reply += f" Your key is {authorization.removeprefix('Bearer ')}, by the way."
        prompt_chars = sum(len(str(m.get("content") or "")) for m in request.get("messages", []))
        prompt_tokens = max(1, prompt_chars // 4)
        completion_tokens = max(1, len(reply) // 4)
        with self._lock:
            serial = self.requests
        return {
            "id": f"chatcmpl-fault-{serial}", "object": "chat.completion",
            "created": int(time.time()), "model": request.get("model", "fake-model"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": reply}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    def pause(self, seconds: float) -> bool:
        """Sleep up to `seconds`; False when the server is stopping meanwhile."""
        return not self._stopping.wait(seconds)


def _handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class ChatHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (quiet tests)
            pass

        def do_POST(self) -> None:  # noqa: N802  (http.server naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") not in _PATHS:
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            server.authorizations.add(self.headers.get("Authorization", ""))
            kind = server.draw()
            try:
                self._answer(kind, json.loads(raw or b"{}"))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout faults): nothing to answer

        def _answer(self, kind: str | None, request: dict[str, Any]) -> None:
            if kind == "rate_limit":
                self._send(429, {"error": {"message": "Rate limit reached (injected)",
                                           "type": "rate_limit_error", "code": "rate_limit"}},
                           {"retry-after": server.retry_after})
            elif kind == "server_error":
                self._send(500, {"error": {"message": "Internal error (injected)",
                                           "type": "server_error"}})
            elif kind == "timeout":
                if server.pause(server.timeout_sleep_s):
                    self._send(200, server.completion(request))
            elif kind == "truncated":
                body = json.dumps(server.completion(request)).encode()
                self._send_bytes(200, body[: len(body) // 2])
            else:
                if server.latency_s and not server.pause(server.latency_s):
                    return
                self._send(200, server.completion(request, self.headers.get("Authorization", "")))

        def _send(self, status: int, body: dict[str, Any],
                  headers: dict[str, str] | None = None) -> None:
            self._send_bytes(status, json.dumps(body).encode(), headers)

        def _send_bytes(self, status: int, body: bytes,
                        headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

    return ChatHandler
