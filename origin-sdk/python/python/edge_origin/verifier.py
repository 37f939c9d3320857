"""The verifier: a thin wrapper over the Rust core (``origin-sdk``)."""

from typing import Any, List, Optional, Sequence, Tuple, Union

from . import _native
from .errors import error_for
from .facts import VerifiedFacts

__all__ = ["Verifier", "TAG", "DEFAULT_REPLAY_CAPACITY", "trust_like", "sign"]

Text = Union[str, bytes]
"""A request line part: text, or the octets as received."""

TAG: str = _native.TAG
"""The ``tag`` the edge puts on its signatures."""
DEFAULT_REPLAY_CAPACITY: int = _native.DEFAULT_REPLAY_CAPACITY
"""Nonces remembered per process by default."""



def _seconds(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return int(value)


class Verifier:
    """Checks the edge's RFC 9421 signature on requests; one per process.

    ``keys`` is the ``EDGE_VERIFY_KEYS`` list: ``keyid:BASE64_ED25519_PUBLIC_KEY``
    or ``keyid:hmac:BASE64_SECRET``, comma-separated; list the old and the new
    key while rotating. Nonces are remembered (``replay_capacity`` of them, ``0``
    for none) so a captured request cannot be sent again. Raises ``ValueError``
    for a bad key list.
    """

    def __init__(
        self,
        keys: str,
        *,
        max_skew: int = 10,
        max_validity: int = 300,
        tag: Optional[str] = TAG,
        label: Optional[str] = None,
        required_components: Optional[Sequence[str]] = None,
        require_nonce: bool = True,
        require_expires: bool = True,
        replay_capacity: int = DEFAULT_REPLAY_CAPACITY,
    ) -> None:
        if not isinstance(keys, str):
            raise TypeError(f"keys must be a str like 'edge-2026:BASE64', not {type(keys).__name__}")
        if required_components is not None:
            required_components = [str(c) for c in required_components]
        self._native = _native.Verifier(
            keys,
            _seconds("max_skew", max_skew),
            _seconds("max_validity", max_validity),
            tag,
            label,
            required_components,
            bool(require_nonce),
            bool(require_expires),
            _seconds("replay_capacity", replay_capacity),
        )

    @property
    def max_skew(self) -> int:
        """Allowed clock difference with the edge, in seconds."""
        return self._native.max_skew

    def verify(self, method: Text, url: Text, headers: Any, now: Optional[float] = None) -> VerifiedFacts:
        """Verifies one request and returns what the edge asserted.

        ``url`` is the request target as received, absolute or origin-form
        (``/path?query``: the authority is then read from ``Host``).
        ``headers`` is a mapping or an iterable of ``(name, value)`` pairs,
        ``str`` or ``bytes``. ``now`` (Unix seconds) defaults to the clock.
        Raises a :class:`~edge_origin.errors.VerifyError` subclass.
        """
        try:
            t = self._native.verify(method, url, headers, None if now is None else _seconds("now", now))
        except _native.Rejected as e:
            raise error_for(*e.args) from None
        return VerifiedFacts._from_native(t)

    def verify_and_strip(
        self, method: Text, url: Text, headers: Any, now: Optional[float] = None
    ) -> Tuple[VerifiedFacts, List[int]]:
        """Like :meth:`verify`, and also returns the positions (in the order
        ``headers`` gave them) of the headers the application must not see:
        ``x-edge-*`` headers the signature does not cover and underscore
        spellings of trust headers (``X_Edge_User``)."""
        try:
            t, strip = self._native.verify_and_strip(method, url, headers, None if now is None else _seconds("now", now))
        except _native.Rejected as e:
            raise error_for(*e.args) from None
        return VerifiedFacts._from_native(t), strip


def trust_like(headers: Any) -> List[int]:
    """Positions of the headers that are, or a server could read as, trust
    headers; what to strip when nothing is verified (exempt paths)."""
    return _native.trust_like(headers)


def sign(key: str, method: str, url: str, headers: Any, created: int, nonce: str, validity: int = 60) -> Tuple[str, str]:
    """Signs like the edge (for tests): ``(signature_input, signature)``.

    ``key`` is ``keyid:ed25519:BASE64_SEED`` (the edge's ``EDGE_SIGNING_KEY``);
    every default component (``@method @authority @path @query`` and the nine
    ``x-edge-*`` headers) must be in ``headers``.
    """
    return _native.sign(key, method, url, headers, created, nonce, validity)
