"""State file, fault-set bookkeeping and WiNet-S sessions: the contracts others rely on.

The service saves when the fault set's version changes, so every change must give a new
version; a corrupt state file is kept aside, never lost; tokens are unique, survive
their own login and keep the rights they were opened with.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from sungrow_sim.faults import FaultSet, FaultSpec
from sungrow_sim.persistence import STATE_FILE, SavedState, StateStore, dumps
from sungrow_sim.protocols.winet.sessions import Sessions, WinetOptions

STATE = SavedState(
    saved_at=time.time(), clock=datetime(2026, 1, 1, tzinfo=UTC), inverters={}, faults=[]
)


def test_every_change_of_the_fault_set_gives_a_new_version():
    now = [1000.0]
    faults = FaultSet(clock=lambda: now[0])
    seen = [faults.version]
    fault = faults.add(FaultSpec(kind="grid-loss", duration_s=10))
    seen.append(faults.version)
    faults.add(FaultSpec(kind="no-reply"))
    seen.append(faults.version)
    faults.clear("no-reply")
    seen.append(faults.version)
    faults.clear("exception")  # nothing of that kind: no change
    assert faults.version == seen[-1]
    faults.clear("grid-loss")
    seen.append(faults.version)
    faults.restore([fault])
    seen.append(faults.version)
    now[0] += 11  # the restored fault expires
    assert faults.active() == []
    seen.append(faults.version)
    assert seen == sorted(seen) and len(set(seen)) == len(seen), seen


def test_a_state_store_saves_into_folders_it_creates(tmp_path):
    store = StateStore(tmp_path / "a" / "b" / "c")
    store.save(STATE)
    assert store.load() == STATE


def test_a_corrupt_state_file_is_kept_aside_with_its_content_and_logged(tmp_path, caplog):
    store = StateStore(tmp_path)
    (tmp_path / STATE_FILE).write_text('{"version": 1, "saved_at": "soon"}')
    with caplog.at_level(logging.ERROR, logger="sungrow_sim.persistence"):
        assert store.load() is None
    (aside,) = tmp_path.glob(f"{STATE_FILE}.corrupt-*")
    assert aside.name.removeprefix(f"{STATE_FILE}.corrupt-").isdigit()
    assert aside.read_text() == '{"version": 1, "saved_at": "soon"}'
    assert not (tmp_path / STATE_FILE).exists()
    (record,) = [r for r in caplog.records if r.name == "sungrow_sim.persistence"]
    assert record.levelno == logging.ERROR
    assert "state file unreadable" in record.getMessage()
    assert str(aside) in record.getMessage()
    assert StateStore(tmp_path / "none").load() is None  # no file: nothing, no error


def test_dumps_is_the_state_as_indented_json():
    text = dumps(STATE)
    assert json.loads(text) == json.loads(STATE.model_dump_json())
    assert text.splitlines()[1].startswith(' "') and not text.splitlines()[1].startswith("  ")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_tokens_are_unique_across_opens_and_logins():
    sessions = Sessions(WinetOptions(login_required=True), Clock())
    opened = [sessions.open(owner=n) for n in range(3)]
    fresh = [sessions.login(s) for s in opened]
    tokens = [s.token for s in opened + fresh]
    assert len(set(tokens)) == len(tokens)
    assert all(sessions.get(s.token) is None for s in opened)
    assert all(sessions.get(s.token) is s for s in fresh)


def test_login_after_the_token_expired_still_gives_a_working_token():
    clock = Clock()
    sessions = Sessions(WinetOptions(login_required=True, token_ttl_s=10), clock)
    session = sessions.open(owner=1)
    sessions.expire_all()
    fresh = sessions.login(session)
    clock.now += 5
    assert sessions.get(fresh.token) is fresh
    assert sessions.authorised(fresh)


def test_a_session_opened_without_login_keeps_its_rights_when_login_becomes_required():
    options = WinetOptions(login_required=False)
    sessions = Sessions(options, Clock())
    before = sessions.open(owner=1)
    options.login_required = True
    after = sessions.open(owner=2)
    assert sessions.authorised(before)
    assert not sessions.authorised(after)
    assert sessions.get(None) is None and sessions.get("") is None
