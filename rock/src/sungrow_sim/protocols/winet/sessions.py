"""WiNet-S sessions: tokens, their lifetime, login state and the session limit."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class WinetOptions(BaseModel):
    """Switchable dongle behaviour; mutable at run time (fault injection assigns fields)."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    login_required: bool = Field(
        default=False, description="New firmware: devicelist and getParam answer 401 until login"
    )
    username: str = Field(default="admin", min_length=1)
    password: str = Field(default="pw8888", min_length=1)
    max_sessions: int | None = Field(
        default=None, ge=1, description="More live sessions than this: connect answers 100"
    )
    token_ttl_s: float | None = Field(
        default=None, gt=0, description="A token unused this long answers 106"
    )
    read_failure_probability: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Chance that a getParam read answers 301"
    )
    reply_delay_s: float = Field(default=0.0, ge=0.0, le=60.0, description="Delay per answer")
    max_tokens_per_socket: int = Field(
        default=8, ge=1, le=10_000, description="Tokens one WebSocket holds; the oldest goes"
    )
    max_tokens: int = Field(
        default=4096, ge=1, le=1_000_000, description="Tokens in all; connect answers 100 beyond"
    )


@dataclass
class Session:
    """One client session, bound to the WebSocket connection that opened it."""

    token: str
    owner: int
    authenticated: bool
    last_used: float


class SessionLimitError(Exception):
    """Raised when a new session would exceed `max_sessions`."""


class Sessions:
    """Token bookkeeping; `clock` is injectable so lifetimes can be tested exactly."""

    def __init__(self, options: WinetOptions, clock: Callable[[], float] = time.monotonic):
        self.options = options
        self._clock = clock
        self._by_token: dict[str, Session] = {}
        self._by_owner: dict[int, dict[str, Session]] = {}  # insertion order: oldest first

    def _purge(self) -> None:
        ttl = self.options.token_ttl_s
        if ttl is None:
            return
        now = self._clock()
        for token in [t for t, s in self._by_token.items() if now - s.last_used >= ttl]:
            self._drop(token)

    def _drop(self, token: str) -> None:
        session = self._by_token.pop(token, None)
        if session is None:
            return
        owned = self._by_owner.get(session.owner)
        if owned is not None:
            owned.pop(token, None)
            if not owned:
                del self._by_owner[session.owner]

    def _add(self, session: Session) -> None:
        owned = self._by_owner.setdefault(session.owner, {})
        while len(owned) >= self.options.max_tokens_per_socket:
            self._drop(next(iter(owned)))  # one socket: its oldest token goes
            owned = self._by_owner.setdefault(session.owner, {})
        self._by_token[session.token] = session
        owned[session.token] = session

    @property
    def count(self) -> int:
        """Number of live sessions."""
        self._purge()
        return len(self._by_token)

    def open(self, owner: int) -> Session:
        """Open a session for connection `owner`.

        Raises:
            SessionLimitError: if `max_sessions` are already live.
        """
        limit = self.options.max_sessions
        if limit is not None and self.count >= limit:
            raise SessionLimitError(f"{limit} session(s) already open")
        owned = len(self._by_owner.get(owner, ()))
        if owned < self.options.max_tokens_per_socket and self.count >= self.options.max_tokens:
            raise SessionLimitError(f"{self.options.max_tokens} tokens in all (max_tokens)")
        session = Session(
            token=str(uuid.uuid4()),
            owner=owner,
            authenticated=not self.options.login_required,
            last_used=self._clock(),
        )
        self._add(session)
        return session

    def get(self, token: str | None) -> Session | None:
        """Return the live session for `token` and mark it used, or None."""
        self._purge()
        session = self._by_token.get(token or "")
        if session is not None:
            session.last_used = self._clock()
        return session

    def login(self, session: Session) -> Session:
        """Replace `session` by an authenticated one with a fresh token."""
        self._drop(session.token)
        fresh = Session(str(uuid.uuid4()), session.owner, True, self._clock())
        self._add(fresh)
        return fresh

    def close_owner(self, owner: int) -> None:
        """End every session of connection `owner` (its WebSocket closed)."""
        for token in list(self._by_owner.get(owner, ())):
            self._drop(token)

    def expire_all(self) -> int:
        """Invalidate every token now (the token-expiry fault); returns how many."""
        count = len(self._by_token)
        self._by_token.clear()
        self._by_owner.clear()
        return count

    def authorised(self, session: Session) -> bool:
        """Whether `session` may list devices and read registers."""
        return session.authenticated or not self.options.login_required
