"""FastAPI behind the edge: `request.state.edge` and the `edge_facts` dependency.

Run: EDGE_VERIFY_KEYS="$(grep ^EDGE_VERIFY_KEYS ../../../examples/dev-keys.env | cut -d= -f2-)" \
     uvicorn fastapi_app:app --port 8001
"""

import os

from fastapi import Depends, FastAPI, Request

from edge_origin import VerifiedFacts
from edge_origin.asgi import EdgeAuthMiddleware
from edge_origin.fastapi import edge_facts

app = FastAPI()
app.add_middleware(EdgeAuthMiddleware, keys=os.environ["EDGE_VERIFY_KEYS"], exempt_paths=["/health"])


@app.get("/health")
def health():
    return {"ok": True}


@app.get("/{path:path}")
def whoami(request: Request, edge: VerifiedFacts = Depends(edge_facts)):
    """What the app knows about the caller, and every header it can read."""
    assert request.state.edge is edge
    return {"framework": "fastapi", "facts": edge.as_dict(), "path": request.url.path,
            "headers": [[k, v] for k, v in request.headers.items()]}
