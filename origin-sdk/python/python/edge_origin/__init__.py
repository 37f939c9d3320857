"""Verify the edge's signature in Python origins (FastAPI, Starlette, Django, Flask).

The edge signs every request it forwards (RFC 9421) over the method,
authority, path, query and its ``x-edge-*`` trust headers. Verifying that
signature is what lets an app believe the client IP, country, user and claims
the edge asserts, and refuse requests that bypassed the edge. The work is
done by the Rust ``origin-sdk`` crate; this package translates.

>>> from edge_origin import Verifier
>>> verifier = Verifier("edge-2026:ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=")

Framework adapters: :mod:`edge_origin.asgi` (Starlette, FastAPI),
:mod:`edge_origin.fastapi` (a dependency), :mod:`edge_origin.django`,
:mod:`edge_origin.wsgi` (Flask and any WSGI app).
"""

from .errors import InvalidSignature, MissingSignature, ReplayedSignature, StaleSignature, VerifyError
from .facts import VerifiedFacts
from .verifier import DEFAULT_REPLAY_CAPACITY, TAG, Verifier

__all__ = [
    "Verifier",
    "VerifiedFacts",
    "VerifyError",
    "MissingSignature",
    "InvalidSignature",
    "StaleSignature",
    "ReplayedSignature",
    "TAG",
    "DEFAULT_REPLAY_CAPACITY",
]
