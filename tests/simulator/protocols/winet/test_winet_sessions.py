"""Tests of WiNet-S session bookkeeping with an exact clock."""

import pydantic
import pytest
from sungrow_sim.protocols.winet.sessions import SessionLimitError, Sessions, WinetOptions


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_a_token_lives_while_it_is_used_within_its_ttl(clock):
    sessions = Sessions(WinetOptions(token_ttl_s=10), clock)
    token = sessions.open(owner=1).token
    clock.now += 9
    assert sessions.get(token) is not None
    clock.now += 9
    assert sessions.get(token) is not None
    clock.now += 10
    assert sessions.get(token) is None
    assert sessions.count == 0


def test_tokens_never_expire_without_a_ttl(clock):
    sessions = Sessions(WinetOptions(), clock)
    token = sessions.open(owner=1).token
    clock.now += 1e9
    assert sessions.get(token) is not None


def test_session_limit_refuses_one_more_and_frees_on_close(clock):
    sessions = Sessions(WinetOptions(max_sessions=2), clock)
    sessions.open(owner=1)
    sessions.open(owner=2)
    with pytest.raises(SessionLimitError, match="2 session"):
        sessions.open(owner=3)
    sessions.close_owner(2)
    assert sessions.open(owner=3).owner == 3


def test_expired_sessions_do_not_count_against_the_limit(clock):
    sessions = Sessions(WinetOptions(max_sessions=1, token_ttl_s=5), clock)
    sessions.open(owner=1)
    clock.now += 5
    assert sessions.open(owner=2).owner == 2


def test_limit_can_be_changed_at_run_time(clock):
    options = WinetOptions()
    sessions = Sessions(options, clock)
    sessions.open(owner=1)
    options.max_sessions = 1
    with pytest.raises(SessionLimitError):
        sessions.open(owner=2)


def test_login_replaces_the_token_with_an_authenticated_one(clock):
    sessions = Sessions(WinetOptions(login_required=True), clock)
    session = sessions.open(owner=1)
    assert not sessions.authorised(session)
    fresh = sessions.login(session)
    assert fresh.token != session.token
    assert sessions.get(session.token) is None
    assert sessions.authorised(fresh)


def test_expire_all_invalidates_every_token(clock):
    sessions = Sessions(WinetOptions(), clock)
    tokens = [sessions.open(owner=n).token for n in range(3)]
    assert sessions.expire_all() == 3
    assert all(sessions.get(t) is None for t in tokens)


@pytest.mark.parametrize(
    "change",
    [
        {"max_sessions": 0},
        {"token_ttl_s": 0},
        {"read_failure_probability": 1.5},
        {"reply_delay_s": -1},
        {"unknown": 1},
    ],
)
def test_options_reject_bad_values(change):
    with pytest.raises(pydantic.ValidationError):
        WinetOptions(**change)


def test_options_validate_run_time_assignment():
    options = WinetOptions()
    with pytest.raises(pydantic.ValidationError):
        options.read_failure_probability = 2
