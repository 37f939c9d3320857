"""Django middleware.

In ``settings.py``::

    MIDDLEWARE = ["edge_origin.django.EdgeAuthMiddleware", ...]   # first
    EDGE_VERIFY_KEYS = os.environ["EDGE_VERIFY_KEYS"]  # "edge-2026:BASE64,edge-2025:BASE64"
    EDGE_EXEMPT_PATHS = ["/health"]                    # optional; "/static/*" is a prefix
    EDGE_MAX_SKEW = 10                                 # optional, seconds

Views read the facts at ``request.edge`` (``None`` on exempt paths). Requests
without a valid, fresh, first-seen edge signature get a 401 JSON response and
never reach a view; trust headers the signature does not cover are removed
from ``request.META`` (and so from ``request.headers``).
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from ._common import ExemptPaths, environ_headers, environ_target, log_rejection, rejection_body
from .errors import VerifyError
from .verifier import Verifier, trust_like

__all__ = ["EdgeAuthMiddleware"]


class EdgeAuthMiddleware:
    """Verifies the edge signature before any view runs."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        keys = getattr(settings, "EDGE_VERIFY_KEYS", None)
        if not keys:
            raise ImproperlyConfigured("EDGE_VERIFY_KEYS must list the edge's verify keys ('keyid:BASE64,…')")
        try:
            self.verifier = Verifier(keys, max_skew=getattr(settings, "EDGE_MAX_SKEW", 10))
        except (TypeError, ValueError) as e:
            raise ImproperlyConfigured(f"EDGE_VERIFY_KEYS: {e}") from e
        self.exempt = ExemptPaths(getattr(settings, "EDGE_EXEMPT_PATHS", ()))
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        keys, pairs = environ_headers(meta)
        if request.path_info in self.exempt:
            drop = trust_like(pairs)
            request.edge = None
        else:
            target = environ_target(meta)
            try:
                request.edge, drop = self.verifier.verify_and_strip(request.method or "GET", target, pairs)
            except VerifyError as e:
                log_rejection(e, request.method or "", target, meta.get("HTTP_HOST"))
                return HttpResponse(rejection_body(e), status=401, content_type="application/json")
        for i in drop:
            del meta[keys[i]]
        # `request.headers` is cached from META on first use; drop a stale copy.
        request.__dict__.pop("headers", None)
        return self.get_response(request)
