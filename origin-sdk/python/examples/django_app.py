"""Django behind the edge, as one file: the middleware, `EDGE_VERIFY_KEYS`,
facts at `request.edge`, `/health` exempt.

Run: EDGE_VERIFY_KEYS=... gunicorn django_app:application --bind 127.0.0.1:8002
(in a project these settings go in settings.py).
"""

import os

from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "example-only"),
    MIDDLEWARE=["edge_origin.django.EdgeAuthMiddleware"],
    EDGE_VERIFY_KEYS=os.environ["EDGE_VERIFY_KEYS"],
    EDGE_EXEMPT_PATHS=["/health"],
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path, re_path  # noqa: E402


def health(request):
    return JsonResponse({"ok": True})


def whoami(request, rest=""):
    return JsonResponse({"framework": "django", "facts": request.edge.as_dict(), "path": request.path,
                         "headers": [[k, v] for k, v in request.headers.items()]})


urlpatterns = [path("health", health), re_path(r"^(?P<rest>.*)$", whoami)]
application = get_wsgi_application()
