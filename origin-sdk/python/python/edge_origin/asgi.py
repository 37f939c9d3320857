"""ASGI middleware (Starlette, FastAPI, any ASGI app).

>>> from fastapi import FastAPI, Request
>>> from edge_origin.asgi import EdgeAuthMiddleware
>>> app = FastAPI()
>>> app.add_middleware(EdgeAuthMiddleware, keys="edge-2026:ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=")
>>> @app.get("/whoami")
... async def whoami(request: Request):
...     return {"user": request.state.edge.user}

Requests without a valid, fresh, first-seen edge signature get a 401 with a
small JSON body; the app is not called. Accepted requests reach the app with
the facts at ``request.state.edge`` (``scope["state"]["edge"]``, also
``scope["edge"]``) and without any trust header the signature does not cover.
"""

from typing import Any, Awaitable, Callable, Dict, Iterable, Optional, Union

from ._common import ExemptPaths, log_rejection, rejection_body, verifier_from
from .errors import VerifyError
from .verifier import Verifier, trust_like

__all__ = ["EdgeAuthMiddleware"]

Scope = Dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


class EdgeAuthMiddleware:
    """Verifies the edge signature before the wrapped ASGI app runs."""

    def __init__(
        self,
        app: ASGIApp,
        keys: Union[str, Verifier, None] = None,
        *,
        verifier: Optional[Verifier] = None,
        exempt_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.verifier = verifier_from(keys, verifier)
        self.exempt = ExemptPaths(exempt_paths)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers") or ())
        scope = dict(scope)
        if scope.get("path", "") in self.exempt:
            drop = set(trust_like(headers))
            scope["headers"] = [h for i, h in enumerate(headers) if i not in drop]
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope.get("path", "/").encode()
        query = scope.get("query_string") or b""
        target = raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        method = scope.get("method", "GET")
        try:
            facts, strip = self.verifier.verify_and_strip(method, target, headers)
        except VerifyError as e:
            host = next((v.decode("latin-1") for n, v in headers if n.lower() == b"host"), None)
            log_rejection(e, method, target, host)
            await _refuse(scope, send, e)
            return
        if strip:
            drop = set(strip)
            headers = [h for i, h in enumerate(headers) if i not in drop]
        scope["headers"] = headers
        scope["edge"] = facts
        scope["state"] = {**(scope.get("state") or {}), "edge": facts}
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Any, error: VerifyError) -> None:
    if scope["type"] == "websocket":
        # Closing before accepting makes the server answer the handshake with 403.
        await send({"type": "websocket.close", "code": 1008})
        return
    body = rejection_body(error)
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
