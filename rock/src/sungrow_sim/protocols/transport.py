"""Transport faults: what an injected fault does to one request, alike for every server.

Both the Modbus server (plain and encrypted) and the WiNet-S dongle ask `TransportFaults`
what happens to a request and carry out the answer in their own framing, so the kinds
share one meaning, one set of defaults and one exception code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sungrow_sim.faults import TRANSPORT_KINDS, Fault, FaultSet

SLOW_REPLY_DEFAULT_S = 5.0  # slow-reply without --delay
Damage = Literal["corrupt", "short"]


@dataclass(frozen=True)
class Effect:
    """What happens to one request under the fault that fired (or none)."""

    fault: Fault | None = None
    answer: bool = True  # False: nothing is sent back
    close: bool = False  # close the connection instead of answering
    delay_s: float = 0.0  # wait this long before answering
    exception: int | None = None  # answer this Modbus exception code instead of the data
    malformed: bool = False  # the WiNet-S exception announced with MBAP length 2
    damage: Damage | None = None  # corrupt (wrong byte count, garbage) or short (cut) reply

    @property
    def kind(self) -> str | None:
        """The kind of the fault that fired, if any."""
        return self.fault.kind if self.fault else None


CLEAN = Effect()


def effect_of(fault: Fault | None) -> Effect:
    """The effect of a transport fault on the request it fired for."""
    if fault is None:
        return CLEAN
    kind = fault.kind
    if kind == "no-reply":
        return Effect(fault, answer=False, delay_s=fault.delay_s or 0.0)
    if kind == "drop-connection":
        return Effect(fault, answer=False, close=True)
    if kind == "slow-reply":
        delay = fault.delay_s if fault.delay_s is not None else SLOW_REPLY_DEFAULT_S
        return Effect(fault, delay_s=delay)
    if kind in ("exception", "malformed-exception"):
        return Effect(fault, exception=fault.effective_code, malformed=kind != "exception")
    if kind == "corrupt-reply":
        return Effect(fault, damage="corrupt")
    if kind == "short-reply":
        return Effect(fault, damage="short")
    raise ValueError(f"{kind} is not a transport fault")


class TransportFaults:
    """The fault set as the listeners of some protocols (fault scopes) see it."""

    def __init__(self, faults: FaultSet, scopes: tuple[str, ...]) -> None:
        self.faults = faults
        self.scopes = scopes

    def request(
        self, protocol: str, unit: int | None = None, wire: int | None = None, count: int = 1
    ) -> Effect:
        """The effect on one request of `protocol` (one of the scopes)."""
        return effect_of(self.faults.hit(TRANSPORT_KINDS, (protocol,), unit, wire, count))

    def refuses(self) -> bool:
        """Whether a refuse-connections fault fires for a new connection."""
        return self.faults.hit(("refuse-connections",), self.scopes) is not None

    def session_limit(self) -> int | None:
        """The session limit a firing session-limit fault sets, if any."""
        limit = self.faults.hit(("session-limit",), self.scopes)
        return None if limit is None else limit.max_sessions or 1

    def expires_tokens(self) -> bool:
        """Whether a token-expiry fault fires for this request."""
        return self.faults.hit(("token-expiry",), self.scopes) is not None
