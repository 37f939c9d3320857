"""Type stubs of the PyO3 module; use the `edge_origin` package instead."""

from typing import Any, List, Optional, Sequence, Tuple, Union

Text = Union[str, bytes]

TAG: str
DEFAULT_REPLAY_CAPACITY: int

FactsTuple = Tuple[
    Optional[str], Optional[str], Optional[int], Optional[str], Optional[str], Optional[str],
    Optional[str], Optional[int], Optional[str], str, int, int, Optional[str],
]

class Rejected(Exception):
    """args: (reason code, message)."""

class Verifier:
    def __init__(
        self,
        keys: str,
        max_skew: int,
        max_validity: int,
        tag: Optional[str],
        label: Optional[str],
        required_components: Optional[Sequence[str]],
        require_nonce: bool,
        require_expires: bool,
        replay_capacity: int,
    ) -> None: ...
    def verify(self, method: Text, url: Text, headers: Any, now: Optional[int] = None) -> FactsTuple: ...
    def verify_and_strip(
        self, method: Text, url: Text, headers: Any, now: Optional[int] = None
    ) -> Tuple[FactsTuple, List[int]]: ...
    @property
    def max_skew(self) -> int: ...

def sign(
    key: str, method: str, url: str, headers: Any, created: int, nonce: str, validity: int = 60
) -> Tuple[str, str]: ...
def trust_like(headers: Any) -> List[int]: ...
