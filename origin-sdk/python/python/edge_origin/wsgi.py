"""WSGI middleware (Flask, Bottle, any WSGI app).

>>> from flask import Flask, request
>>> from edge_origin.wsgi import EdgeAuthMiddleware
>>> app = Flask(__name__)
>>> app.wsgi_app = EdgeAuthMiddleware(app.wsgi_app, keys="edge-2026:ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=")
>>> @app.get("/whoami")
... def whoami():
...     return {"user": request.environ["edge.facts"].user}

Unverified requests get a 401 with a small JSON body. Accepted ones reach the
app with the facts at ``environ["edge.facts"]`` and without the ``HTTP_X_EDGE_*``
keys the signature does not cover. A WSGI server maps ``X_Edge_User`` and
``X-Edge-User`` to the same ``HTTP_X_EDGE_USER``: the value verified is the
value the app reads, so a forged twin either breaks the signature or is gone.
"""

from typing import Any, Callable, Dict, Iterable, Optional, Union

from ._common import ExemptPaths, environ_headers, environ_target, log_rejection, rejection_body, verifier_from
from .errors import VerifyError
from .verifier import Verifier, trust_like

__all__ = ["EdgeAuthMiddleware", "FACTS_KEY"]

FACTS_KEY = "edge.facts"
"""Where the verified facts are put in the environ."""

WSGIApp = Callable[[Dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class EdgeAuthMiddleware:
    """Verifies the edge signature before the wrapped WSGI app runs."""

    def __init__(
        self,
        app: WSGIApp,
        keys: Union[str, Verifier, None] = None,
        *,
        verifier: Optional[Verifier] = None,
        exempt_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.verifier = verifier_from(keys, verifier)
        self.exempt = ExemptPaths(exempt_paths)

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        keys, pairs = environ_headers(environ)
        if environ.get("PATH_INFO", "") in self.exempt:
            for i in trust_like(pairs):
                del environ[keys[i]]
            environ[FACTS_KEY] = None
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        target = environ_target(environ)
        try:
            facts, strip = self.verifier.verify_and_strip(method, target, pairs)
        except VerifyError as e:
            log_rejection(e, method, target, environ.get("HTTP_HOST"))
            body = rejection_body(e)
            start_response("401 Unauthorized", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        for i in strip:
            del environ[keys[i]]
        environ[FACTS_KEY] = facts
        return self.app(environ, start_response)
