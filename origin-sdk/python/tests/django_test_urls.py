"""URLconf of the Django adapter tests."""

from django.http import JsonResponse
from django.urls import path


def orders(request):
    facts = request.edge
    return JsonResponse({**facts.as_dict(), "headers": dict(request.headers)})


def health(request):
    return JsonResponse({"edge": request.edge, "headers": dict(request.headers)})


urlpatterns = [path("orders", orders), path("health", health)]
