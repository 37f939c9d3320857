"""Why a request's edge signature was refused.

Every refusal carries ``reason``, the snake_case code of the Rust
``VerifyError`` variant (``bad_signature``, ``expired``, ``replayed``, …), and
``message``, its text. The subclasses group reasons by what an operator does
about them; a reason added to the Rust core later arrives as
:class:`InvalidSignature` with its own code, without a change here.
"""

from typing import Dict, Type

__all__ = ["VerifyError", "MissingSignature", "InvalidSignature", "StaleSignature", "ReplayedSignature"]


class VerifyError(Exception):
    """The edge signature was refused (base class)."""

    reason: str
    message: str

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reason={self.reason!r}, message={self.message!r})"


class MissingSignature(VerifyError):
    """No edge signature at all: the request did not come through the edge."""


class InvalidSignature(VerifyError):
    """A signature that is forged, malformed, by an unknown key, or misses required parts."""


class StaleSignature(VerifyError):
    """A valid signature outside its time window (expired, or created in the future)."""


class ReplayedSignature(VerifyError):
    """A signature whose nonce this process already accepted."""


_BY_REASON: Dict[str, Type[VerifyError]] = {
    "missing_signature": MissingSignature,
    "missing_signature_input": MissingSignature,
    "expired": StaleSignature,
    "created_in_future": StaleSignature,
    "replayed": ReplayedSignature,
}


def error_for(reason: str, message: str) -> VerifyError:
    """The exception for a Rust reason code."""
    return _BY_REASON.get(reason, InvalidSignature)(reason, message)
