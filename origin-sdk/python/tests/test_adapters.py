"""The adapters inside real frameworks (Starlette/FastAPI, Flask, Django) via
their own test clients; the same apps run behind real servers in the e2e suite."""

import json

import pytest

from conftest import DEV_VERIFY, edge_request


def _headers(pairs):
    return [(n, v) for n, v in pairs if n != "host"]


# ---------------------------------------------------------------- ASGI / FastAPI
@pytest.fixture
def fastapi_client():
    from fastapi import Depends, FastAPI, Request
    from fastapi.testclient import TestClient

    from edge_origin import VerifiedFacts
    from edge_origin.asgi import EdgeAuthMiddleware
    from edge_origin.fastapi import edge_facts

    app = FastAPI()
    app.add_middleware(EdgeAuthMiddleware, keys=DEV_VERIFY, exempt_paths=["/health"])

    @app.get("/orders")
    def orders(request: Request, edge: VerifiedFacts = Depends(edge_facts)):
        return {"user": edge.user, "state_user": request.state.edge.user, "headers": dict(request.headers)}

    @app.get("/health")
    def health(request: Request):
        return {"headers": dict(request.headers)}

    return TestClient(app, base_url="http://origin.test")


def test_asgi_accepts_signed_and_strips(fastapi_client, facts):
    method, target, headers = edge_request(facts, target="/orders", extra=[("x-edge-role", "admin")])
    r = fastapi_client.get(target, headers=_headers(headers))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"] == body["state_user"] == "alice"
    assert "x-edge-role" not in body["headers"] and body["headers"]["x-edge-user"] == "alice"


def test_asgi_underscore_twin_never_reaches_the_app(fastapi_client, facts):
    method, target, headers = edge_request(facts, target="/orders", extra=[("x_edge_user", "admin")])
    r = fastapi_client.get(target, headers=_headers(headers))
    if r.status_code == 401:
        assert r.json()["reason"] == "ambiguous_header"
    else:
        assert r.status_code == 200 and r.json()["user"] == "alice"
        assert "x_edge_user" not in r.json()["headers"] and "admin" not in r.json()["headers"].values()


def test_asgi_refuses_unsigned_forged_replayed(fastapi_client, facts):
    r = fastapi_client.get("/orders", headers={"x-edge-user": "admin"})
    assert r.status_code == 401 and r.json()["reason"] == "missing_signature"
    assert r.headers["content-type"] == "application/json"
    method, target, headers = edge_request(facts, target="/orders")
    forged = [(n, "admin" if n == "x-edge-user" else v) for n, v in _headers(headers)]
    assert fastapi_client.get(target, headers=forged).json()["reason"] == "bad_signature"
    assert fastapi_client.get(target, headers=_headers(headers)).status_code == 200
    r = fastapi_client.get(target, headers=_headers(headers))
    assert r.status_code == 401 and r.json()["reason"] == "replayed"


def test_asgi_exempt_path_strips_trust_headers(fastapi_client):
    r = fastapi_client.get("/health", headers={"x-edge-user": "admin", "X_Edge_Country": "XX", "accept": "a"})
    assert r.status_code == 200
    assert not any(k.replace("_", "-").startswith("x-edge-") for k in r.json()["headers"])


def test_fastapi_dependency_refuses_without_middleware():
    from fastapi import Depends, FastAPI
    from fastapi.testclient import TestClient

    from edge_origin.fastapi import edge_facts

    app = FastAPI()
    app.get("/x")(lambda edge=Depends(edge_facts): {"user": edge.user})
    assert TestClient(app).get("/x").status_code == 401


# ---------------------------------------------------------------- WSGI / Flask
@pytest.fixture
def flask_client():
    from flask import Flask, request

    from edge_origin.wsgi import EdgeAuthMiddleware

    app = Flask(__name__)
    app.wsgi_app = EdgeAuthMiddleware(app.wsgi_app, keys=DEV_VERIFY, exempt_paths=["/health"])

    @app.get("/orders")
    def orders():
        facts = request.environ["edge.facts"]
        return {"user": facts.user, "country": facts.country, "headers": dict(request.headers)}

    @app.get("/health")
    def health():
        return {"headers": dict(request.headers)}

    return app.test_client()


def test_wsgi_accepts_signed_and_strips(flask_client, facts):
    method, target, headers = edge_request(facts, target="/orders?id=7", extra=[("x-edge-role", "admin")])
    r = flask_client.get(target, headers=_headers(headers), base_url="http://origin.test")
    assert r.status_code == 200, r.text
    assert r.json["user"] == "alice" and r.json["country"] == "DE"
    assert "X-Edge-Role" not in r.json["headers"] and r.json["headers"]["X-Edge-User"] == "alice"


def test_wsgi_underscore_twin_never_reaches_the_app(flask_client, facts):
    """In an environ `X_Edge_User` and `X-Edge-User` are one key: a forged twin
    that replaced the signed value breaks the signature."""
    method, target, headers = edge_request(facts, target="/orders")
    environ_overrides = {"HTTP_X_EDGE_USER": "admin"}
    r = flask_client.get(target, headers=_headers(headers), base_url="http://origin.test", environ_overrides=environ_overrides)
    assert r.status_code == 401 and r.json["reason"] == "bad_signature"


def test_wsgi_refuses_unsigned_and_replayed(flask_client, facts):
    r = flask_client.get("/orders", headers={"X-Edge-User": "admin"})
    assert r.status_code == 401 and json.loads(r.data)["reason"] == "missing_signature"
    method, target, headers = edge_request(facts, target="/orders")
    assert flask_client.get(target, headers=_headers(headers), base_url="http://origin.test").status_code == 200
    assert flask_client.get(target, headers=_headers(headers), base_url="http://origin.test").json["reason"] == "replayed"
    r = flask_client.get("/health", headers={"X-Edge-User": "admin"})
    assert r.status_code == 200 and "X-Edge-User" not in r.json["headers"]


# ---------------------------------------------------------------- Django
@pytest.fixture(scope="module")
def django_client():
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF="django_test_urls",
            MIDDLEWARE=["edge_origin.django.EdgeAuthMiddleware"],
            EDGE_VERIFY_KEYS=DEV_VERIFY,
            EDGE_EXEMPT_PATHS=["/health"],
            SECRET_KEY="test-only",
        )
        django.setup()
    from django.test import Client

    return Client()


def test_django_accepts_signed_and_strips(django_client, facts):
    method, target, headers = edge_request(facts, target="/orders?id=7", extra=[("x-edge-role", "admin")])
    meta = {"HTTP_" + n.upper().replace("-", "_"): v for n, v in headers}
    r = django_client.get("/orders", {"id": "7"}, **meta)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["user"] == "alice" and body["client_ip"] == "203.0.113.9" and body["claims"]["roles"] == ["admin"]
    assert "X-Edge-Role" not in body["headers"] and body["headers"]["X-Edge-User"] == "alice"
    r = django_client.get("/orders", {"id": "7"}, **meta)
    assert r.status_code == 401 and r.json()["reason"] == "replayed"


def test_django_refuses_unsigned_and_exempts_health(django_client):
    r = django_client.get("/orders", HTTP_X_EDGE_USER="admin")
    assert r.status_code == 401 and r.json()["reason"] == "missing_signature"
    r = django_client.get("/health", HTTP_X_EDGE_USER="admin")
    assert r.status_code == 200 and "X-Edge-User" not in r.json()["headers"] and r.json()["edge"] is None


def test_bad_signature_debug_log_names_computed_components(fastapi_client, facts, caplog):
    """Behind a proxy that rewrites Host, the log says what the origin computed."""
    import logging

    method, target, headers = edge_request(facts, target="/orders")
    with caplog.at_level(logging.DEBUG, logger="edge_origin"):
        r = fastapi_client.get(target, headers=[*_headers(headers), ("host", "rewritten.internal")])
    assert r.status_code == 401 and r.json()["reason"] == "bad_signature"
    text = caplog.text
    assert "rewritten.internal" in text and "/orders" in text
    assert not any(v in text for n, v in headers if n == "signature")
