"""Flask behind the edge: the WSGI middleware, facts at `request.environ["edge.facts"]`.

Run: EDGE_VERIFY_KEYS=... gunicorn flask_app:app --bind 127.0.0.1:8003
"""

import os

from flask import Flask, request

from edge_origin.wsgi import EdgeAuthMiddleware

app = Flask(__name__)
app.wsgi_app = EdgeAuthMiddleware(app.wsgi_app, keys=os.environ["EDGE_VERIFY_KEYS"], exempt_paths=["/health"])


@app.get("/health")
def health():
    return {"ok": True}


@app.get("/<path:path>")
def whoami(path):
    edge = request.environ["edge.facts"]
    return {"framework": "flask", "facts": edge.as_dict(), "path": request.path,
            "headers": [[k, v] for k, v in request.headers.items()]}
