"""What every adapter shares: the 401 body, exempt paths, WSGI environ headers."""

import json
import logging
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union
from urllib.parse import quote

from .errors import VerifyError
from .verifier import Verifier

log = logging.getLogger("edge_origin")


def verifier_from(keys: Union[str, Verifier, None], verifier: Optional[Verifier]) -> Verifier:
    """An adapter's verifier: given, or built from the key list."""
    if verifier is not None:
        return verifier
    if isinstance(keys, Verifier):
        return keys
    if keys is None:
        raise ValueError("edge_origin: give keys='keyid:BASE64,…' (EDGE_VERIFY_KEYS) or verifier=")
    return Verifier(keys)


def rejection_body(error: VerifyError) -> bytes:
    """The small JSON body of a 401, naming the reason (never keys or signatures)."""
    return json.dumps(
        {"error": "edge signature rejected", "reason": error.reason, "detail": error.message},
        separators=(",", ":"),
    ).encode()


def log_rejection(error: VerifyError, method: str, target: str, host: Optional[str]) -> None:
    """One INFO line per refusal; at DEBUG also the values this origin computed
    for the derived components, so a proxy that rewrites `Host` or the path
    (which the signature covers) shows up. Never keys or signatures."""
    log.info("edge signature rejected: %s (%s) %s %s", error.reason, error.message, method, target)
    if error.reason == "bad_signature":
        log.debug("origin computed @method=%r @authority=%r @path?@query=%r", method, host, target)


class ExemptPaths:
    """Paths served without a signature (health checks): exact, or a prefix
    when the entry ends with ``*``. Their trust headers are still removed."""

    def __init__(self, paths: Iterable[str]) -> None:
        paths = [paths] if isinstance(paths, str) else list(paths)
        self._exact = frozenset(p for p in paths if not p.endswith("*"))
        self._prefixes = tuple(p[:-1] for p in paths if p.endswith("*"))

    def __contains__(self, path: str) -> bool:
        return path in self._exact or (bool(self._prefixes) and path.startswith(self._prefixes))


def _latin1(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("latin-1", "replace")


def environ_headers(environ: Dict[str, Any]) -> Tuple[List[str], List[Tuple[str, bytes]]]:
    """The request headers of a WSGI environ (also Django's ``META``) as
    ``(name, octets)`` pairs, with the environ key each came from.

    PEP 3333 gives values as latin-1 text; servers map ``-`` and ``_`` in names
    to the same ``HTTP_`` key, which is why stripping works on those keys."""
    keys: List[str] = []
    pairs: List[Tuple[str, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").lower()
        else:
            continue
        keys.append(key)
        pairs.append((name, _latin1(value)))
    return keys, pairs


def environ_target(environ: Dict[str, Any]) -> str:
    """The request target as the client sent it: the raw URI where the server
    provides one (gunicorn ``RAW_URI``, uWSGI/Werkzeug ``REQUEST_URI``), else
    rebuilt from ``SCRIPT_NAME``, ``PATH_INFO`` and ``QUERY_STRING``."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw if isinstance(raw, str) else raw.decode("latin-1")
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    path = quote(path.encode("latin-1", "replace"), safe="/;=,:@!$&'()*+~")
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path
