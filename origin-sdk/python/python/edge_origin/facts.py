"""What the edge asserted about a request, read only from signed headers."""

import ipaddress
import json
from dataclasses import dataclass
from typing import Any, Optional, Tuple, Union

__all__ = ["VerifiedFacts"]

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


@dataclass(frozen=True)
class VerifiedFacts:
    """Facts from the trust headers covered by a verified edge signature.

    Empty or unparseable values are ``None``: a bad fact is the edge's bug,
    not a reason to refuse the request.
    """

    client_ip: Optional[IPAddress]
    """``x-edge-client-ip``"""
    country: Optional[str]
    """``x-edge-country`` (ISO 3166-1 alpha-2)"""
    asn: Optional[int]
    """``x-edge-asn``"""
    colo: Optional[str]
    """``x-edge-colo`` (edge data centre)"""
    request_id: Optional[str]
    """``x-edge-request-id``"""
    user: Optional[str]
    """``x-edge-user``: the subject the edge authenticated"""
    claims: Optional[Any]
    """``x-edge-claims``: the authenticated claims (usually a dict)"""
    bot_score: Optional[int]
    """``x-edge-bot-score``: 1 (bot) to 99 (human)"""
    bot_class: Optional[str]
    """``x-edge-bot-class``"""
    keyid: str
    """The key that signed."""
    created: int
    """Signature ``created`` (Unix seconds)."""
    expires: int
    """Signature ``expires`` (Unix seconds)."""
    nonce: Optional[str]
    """Signature ``nonce``."""

    @classmethod
    def _from_native(cls, t: Tuple[Any, ...]) -> "VerifiedFacts":
        ip, country, asn, colo, request_id, user, claims, bot_score, bot_class, keyid, created, expires, nonce = t
        return cls(
            ipaddress.ip_address(ip) if ip is not None else None,
            country,
            asn,
            colo,
            request_id,
            user,
            json.loads(claims) if claims is not None else None,
            bot_score,
            bot_class,
            keyid,
            created,
            expires,
            nonce,
        )

    def as_dict(self) -> dict:
        """JSON-ready form (the IP as text)."""
        return {
            "client_ip": str(self.client_ip) if self.client_ip is not None else None,
            "country": self.country,
            "asn": self.asn,
            "colo": self.colo,
            "request_id": self.request_id,
            "user": self.user,
            "claims": self.claims,
            "bot_score": self.bot_score,
            "bot_class": self.bot_class,
            "keyid": self.keyid,
            "created": self.created,
            "expires": self.expires,
            "nonce": self.nonce,
        }
