"""A FastAPI dependency for the facts :class:`~edge_origin.asgi.EdgeAuthMiddleware` verified.

>>> from fastapi import Depends, FastAPI
>>> from edge_origin import VerifiedFacts
>>> from edge_origin.asgi import EdgeAuthMiddleware
>>> from edge_origin.fastapi import edge_facts
>>> app = FastAPI()
>>> app.add_middleware(EdgeAuthMiddleware, keys="edge-2026:ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=")
>>> @app.get("/orders")
... def orders(edge: VerifiedFacts = Depends(edge_facts)):
...     return {"country": edge.country}
"""

from fastapi import HTTPException, Request

from .facts import VerifiedFacts

__all__ = ["edge_facts"]


def edge_facts(request: Request) -> VerifiedFacts:
    """The verified facts of this request; 401 when the route is not behind
    the middleware (nothing was verified), so a handler cannot run unverified."""
    facts = request.scope.get("edge")
    if not isinstance(facts, VerifiedFacts):
        raise HTTPException(status_code=401, detail="edge signature required")
    return facts
