"""HTTP guards around the whole app (API and Gradio UI): body limits, no uploads, security headers.

One pure ASGI middleware, so it also covers the mounted Gradio app:

- a request body larger than its limit (``/api/*``: ``max_api_body``; the UI's own routes: ``max_ui_body``)
  is answered 413 with a JSON message before any route parses it;
- multipart bodies (file uploads: Gradio's ``/gradio_api/upload`` and friends) are refused with 403 — an
  unauthenticated upload route would keep and serve anything sent to it — except a POST to one of the
  ``uploads`` paths (the admin API's ``/api/documents``, token-checked by :mod:`app.admin`), whose body may
  reach that path's own limit; sent without an ``Authorization`` header it is not read at all (the route
  answers 401/403 first);
- every response carries ``X-Content-Type-Options``, ``X-Frame-Options``, ``Referrer-Policy`` and a
  Content-Security-Policy the Gradio UI satisfies (its inline boot script, inline styles and ``js=`` hooks
  need ``'unsafe-inline'``/``'unsafe-eval'``; nothing is loaded from another origin).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; "
       "worker-src 'self' blob:; frame-ancestors 'self'; object-src 'none'; base-uri 'self'; form-action 'self'")
SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"SAMEORIGIN"),
                    (b"referrer-policy", b"no-referrer"), (b"content-security-policy", CSP.encode()))
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


async def send_json(send: Send, status: int, content: dict[str, Any],
                    extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(content, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *SECURITY_HEADERS, *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


def too_large(limit: int) -> dict[str, Any]:
    return {"detail": f"Nội dung yêu cầu quá lớn: tối đa {limit // 1024} KB.",
            "errors": [{"loc": ["body"], "type": "body_too_large", "msg": f"body over {limit} bytes"}]}


UPLOAD_REFUSED = {"detail": "Dịch vụ không nhận tệp tải lên (multipart/form-data).",
                  "errors": [{"loc": ["body"], "type": "upload_refused", "msg": "uploads are disabled"}]}


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


async def _read_body(receive: Receive, limit: int) -> tuple[list[Message], bool]:
    """The request's body messages, read up to ``limit`` bytes; True when the body is longer."""
    messages: list[Message] = []
    size = 0
    while True:
        msg = await receive()
        messages.append(msg)
        if msg["type"] != "http.request":
            return messages, False
        size += len(msg.get("body", b""))
        if size > limit:
            return messages, True
        if not msg.get("more_body", False):
            return messages, False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    queue = list(messages)

    async def replayed() -> Message:
        return queue.pop(0) if queue else await receive()

    return replayed


MethodsOf = Callable[[Scope], "set[str] | None"]


def not_allowed(allowed: set[str]) -> dict[str, Any]:
    return {"detail": f"Phương thức không được hỗ trợ ở địa chỉ này; dùng {', '.join(sorted(allowed))}."}


class HttpGuards:
    """The middleware; ``api_limit`` applies under ``/api/``, ``ui_limit`` to every other path.  ``methods_of``
    names the methods of an API path (None for other paths): another method is answered 405 with ``Allow``
    rather than falling through to the UI mounted at "/" (which would say 404)."""

    def __init__(self, app: ASGIApp, api_limit: int, ui_limit: int, methods_of: MethodsOf | None = None,
                 uploads: dict[str, int] | None = None) -> None:
        self.app, self.api_limit, self.ui_limit, self.methods_of = app, api_limit, ui_limit, methods_of
        self.uploads = uploads or {}

    def _limit(self, scope: Scope) -> int | None:
        """The body limit of the request; None when its multipart body is refused."""
        upload = self.uploads.get(scope["path"]) if scope["method"] == "POST" else None
        if _header(scope, b"content-type").lower().startswith("multipart/"):
            return upload
        return self.api_limit if scope["path"].startswith("/api/") else self.ui_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        allowed = self.methods_of(scope) if self.methods_of else None
        if allowed is not None and scope["method"] not in allowed:
            await send_json(send, 405, not_allowed(allowed), [(b"allow", ", ".join(sorted(allowed)).encode())])
            return
        if scope["method"] in _BODY_METHODS:
            limit = self._limit(scope)
            if limit is None:
                await send_json(send, 403, UPLOAD_REFUSED)
                return
            if scope["path"] in self.uploads and not _header(scope, b"authorization"):
                await self.app(scope, receive, _with_headers(send))  # refused by the route, body unread
                return
            declared = _header(scope, b"content-length")
            if declared.isdigit() and int(declared) > limit:
                await send_json(send, 413, too_large(limit))
                return
            messages, over = await _read_body(receive, limit)
            if over:
                await send_json(send, 413, too_large(limit))
                return
            receive = _replay(messages, receive)
        await self.app(scope, receive, _with_headers(send))


def _with_headers(send: Send) -> Send:
    async def sending(msg: Message) -> None:
        if msg["type"] == "http.response.start":
            present = {k.lower() for k, _ in msg.get("headers", ())}
            msg["headers"] = [*msg.get("headers", ()), *(h for h in SECURITY_HEADERS if h[0] not in present)]
        await send(msg)

    return sending
