"""The plant, its calendar, faults, WiNet-S sessions, the clock fields and the state file.

Judged by what each one means, not by the simulator's other outputs: the house load's
daily energy against the documented profile's integral (computed here in closed form),
its shape (peaks at the documented hours, night below the evening peak, never negative,
winter above summer); irradiance against Haurwitz's clear-sky formula evaluated here at
NOAA's published solar positions; energy counters against the integral of the power the
plant reports; the day, month and year rolling over at local midnight per zoneinfo;
faults and sessions by their documented limits and order; the state file by the
documented physical bounds of each saved counter.
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pydantic
import pytest
from sungrow_sim import persistence
from sungrow_sim.clock import ClockRangeError, check_fields
from sungrow_sim.faults import FaultLimitError, FaultSet, FaultSpec
from sungrow_sim.persistence import STATE_FILE, SavedInverter, SavedState, StateStore
from sungrow_sim.plant.model import Counters
from sungrow_sim.protocols.winet.sessions import SessionLimitError, Sessions, WinetOptions

# -- clock register fields (documented ranges: 2000~2099, 1~12, 1~31, 0~23, 0~59, 0~59) ---


def test_the_clock_fields_accept_each_documented_upper_bound():
    assert check_fields([2099, 12, 31, 23, 59, 59]) == datetime(2099, 12, 31, 23, 59, 59)
    assert check_fields([2000, 1, 1, 0, 0, 0]) == datetime(2000, 1, 1)


def test_a_clock_field_outside_its_range_is_named_with_the_range():
    with pytest.raises(ClockRangeError, match=r"^second: 60 is outside 0\.\.59$"):
        check_fields([2026, 1, 1, 0, 0, 60])
    with pytest.raises(ClockRangeError, match="day is out of range for month"):
        check_fields([2026, 2, 31, 0, 0, 0])


def test_the_clock_needs_all_six_fields():
    with pytest.raises(ValueError):  # noqa: PT011 (five registers are not a time)
        check_fields([2026, 1, 1, 0, 0])


# -- faults ------------------------------------------------------------------------------


def test_a_fault_is_over_exactly_when_its_duration_has_passed():
    now = [100.0]
    faults = FaultSet(clock=lambda: now[0])
    faults.add(FaultSpec(kind="no-reply", duration_s=10))
    now[0] = 109.999
    assert len(faults.active()) == 1
    now[0] = 110.0
    assert faults.active() == []
    assert faults.hit(("no-reply",), ("modbus",)) is None


def test_across_kinds_the_first_injected_fault_answers_first():
    faults = FaultSet()
    first = faults.add(FaultSpec(kind="no-reply"))
    second = faults.add(FaultSpec(kind="exception"))
    assert faults.hit(("exception", "no-reply"), ("modbus",)) == first
    faults.clear("no-reply")
    third = faults.add(FaultSpec(kind="no-reply"))
    assert faults.hit(("no-reply", "exception"), ("modbus",)) == second
    assert third.id != second.id


def test_the_fault_limit_is_exact_and_says_how_to_get_below_it():
    faults = FaultSet(max_faults=2)
    faults.add(FaultSpec(kind="no-reply"))
    faults.add(FaultSpec(kind="exception"))
    with pytest.raises(FaultLimitError, match=r"^2 faults are active.*clear some first$"):
        faults.add(FaultSpec(kind="grid-loss"))
    assert len(faults) == 2


def test_restore_counts_what_it_kept_up_to_the_limit_and_replaces_a_known_id():
    source = FaultSet()
    saved = [source.add(FaultSpec(kind=k)) for k in ("no-reply", "exception", "grid-loss")]
    target = FaultSet(max_faults=2)
    assert target.restore(saved) == 2
    assert {f.kind for f in target.active()} == {"no-reply", "exception"}
    again = FaultSet()
    assert again.restore(saved) == 3
    assert again.restore(saved[:1]) == 1  # the same id again: replaced, not doubled
    assert len(again) == 3


# -- WiNet-S sessions --------------------------------------------------------------------


def test_one_socket_keeps_its_newest_tokens_and_closing_it_ends_them_all():
    sessions = Sessions(WinetOptions(max_tokens_per_socket=1))
    first = sessions.open(owner=1)
    second = sessions.open(owner=1)  # the socket's oldest token goes
    assert sessions.get(first.token) is None
    assert sessions.get(second.token) is not None
    sessions.close_owner(1)
    assert sessions.get(second.token) is None
    assert sessions.count == 0
    sessions.close_owner(99)  # a socket that never opened a session: nothing to do


def test_a_login_keeps_the_sockets_other_tokens_tied_to_it():
    sessions = Sessions(WinetOptions(login_required=True, max_tokens_per_socket=3))
    a, b = sessions.open(owner=1), sessions.open(owner=1)
    other = sessions.open(owner=2)
    fresh = sessions.login(a)
    assert sessions.get(a.token) is None and sessions.get(fresh.token) is not None
    sessions.close_owner(1)
    assert sessions.get(b.token) is None, "closing the socket must end its untouched token"
    assert sessions.get(fresh.token) is None
    assert sessions.get(other.token) is not None


def test_expired_tokens_free_their_sockets_places():
    now = [0.0]
    options = WinetOptions(token_ttl_s=10, max_tokens_per_socket=2)
    sessions = Sessions(options, clock=lambda: now[0])
    sessions.open(owner=1)
    sessions.open(owner=1)
    now[0] = 20.0
    assert sessions.count == 0
    fresh = [sessions.open(owner=1), sessions.open(owner=1)]
    assert all(sessions.get(s.token) is not None for s in fresh)


def test_the_token_limit_in_all_refuses_new_sockets_but_lets_a_full_socket_rotate():
    sessions = Sessions(WinetOptions(max_tokens=2, max_tokens_per_socket=2))
    sessions.open(owner=1)
    sessions.open(owner=1)
    with pytest.raises(SessionLimitError, match="2 tokens in all"):
        sessions.open(owner=2)
    rotated = sessions.open(owner=1)  # the socket gives up its oldest token for it
    assert sessions.get(rotated.token) is not None
    assert sessions.count == 2


# -- saved counters (state file) ---------------------------------------------------------


def test_a_counters_snapshot_does_not_follow_later_filing():
    counters = Counters()
    counters.years = {"yield": {"2025": 1.0}}
    snapshot = counters.as_dict()
    counters.days["yield"][0] = 5.0
    counters.months["yield"][0] = 7.0
    counters.years["yield"]["2025"] = 9.0
    assert snapshot["days"]["yield"][0] == 0.0  # type: ignore[index]
    assert snapshot["months"]["yield"][0] == 0.0  # type: ignore[index]
    assert snapshot["years"]["yield"]["2025"] == 1.0  # type: ignore[index]
    assert Counters(**snapshot).years == {"yield": {"2025": 1.0}}


def saved(**counters) -> SavedInverter:
    return SavedInverter(model="SH10RT", serial="S", counters=counters, overrides={})


ACCEPTED = [
    {"battery_soc_pct": 100.0},
    {"battery_soc_pct": 0},
    {"total_yield_kwh": 1e9},  # a terawatt-hour: the documented ceiling
    {"total_yield_kwh": 9e8},
    {"daily_running_time_min": 6e8},  # 1e7 hours in minutes
    {"total_running_time_h": 1e7},
    {"commissioned": "x" * 64},
    {"day": ""},
    {"day": "2026-06-21", "month": "2026-06", "year": "2026"},
]
REFUSED = [
    ({"battery_soc_pct": 100.5}, "battery_soc_pct"),
    ({"battery_soc_pct": 150}, "battery_soc_pct"),
    ({"total_yield_kwh": 1.01e9}, "total_yield_kwh"),
    ({"total_yield_kwh": -1}, "total_yield_kwh"),
    ({"total_yield_kwh": True}, "total_yield_kwh"),
    ({"total_yield_kwh": "5"}, "total_yield_kwh"),
    ({"total_yield_kwh": float("inf")}, "total_yield_kwh"),
    ({"daily_running_time_min": 6.0000001e8}, "daily_running_time_min"),
    ({"daily_running_time_min": 6.1e8}, "daily_running_time_min"),
    ({"total_running_time_h": 1.0001e7}, "total_running_time_h"),
    ({"commissioned": "x" * 65}, "commissioned"),
    ({"commissioned": 5}, "commissioned"),
    ({"day": "bad"}, "day"),
    ({"day": 5}, "day"),
    ({"days": [1, 2]}, "days"),
    # A later bad value is still checked after an unknown key, the arrays or the date.
    ({"future_counter_kwh": 1, "total_yield_kwh": -1}, "total_yield_kwh"),
    ({"days": {}, "total_yield_kwh": -1}, "total_yield_kwh"),
    ({"commissioned": "2025-01-01", "total_yield_kwh": -1}, "total_yield_kwh"),
]


@pytest.mark.parametrize("counters", ACCEPTED)
def test_saved_counters_within_their_physical_ranges_are_accepted(counters):
    kept = saved(**counters).counters
    assert {k: kept[k] for k in counters} == counters


@pytest.mark.parametrize(("counters", "key"), REFUSED)
def test_saved_counters_outside_their_physical_ranges_are_refused_by_name(counters, key):
    with pytest.raises(pydantic.ValidationError) as caught:
        saved(**counters)
    assert f"{key}: " in str(caught.value)


def test_a_clock_that_went_back_gives_no_downtime():
    ahead = SavedState(
        saved_at=time.time() + 600, clock=datetime(2026, 1, 1, tzinfo=UTC), inverters={}, faults=[]
    )
    assert ahead.downtime_s() == 0.0


def _state_bytes(pad: int = 0) -> bytes:
    state = SavedState(
        saved_at=time.time(), clock=datetime(2026, 1, 1, tzinfo=UTC), inverters={}, faults=[]
    )
    return state.model_dump_json().encode() + b" " * pad


def test_a_state_file_of_exactly_the_size_limit_is_read_and_one_byte_more_is_not(
    tmp_path, monkeypatch
):
    data = _state_bytes(pad=10)
    monkeypatch.setattr(persistence, "MAX_STATE_BYTES", len(data))
    store = StateStore(tmp_path)
    store.path.write_bytes(data)
    assert store.load() is not None
    store.path.write_bytes(data + b" ")
    assert store.load() is None
    (aside,) = tmp_path.glob(f"{STATE_FILE}.corrupt-*")
    assert aside.read_bytes() == data + b" "


def test_a_rejected_state_file_is_logged_with_its_first_error_where_and_why(tmp_path, caplog):
    store = StateStore(tmp_path)
    state = {
        "saved_at": time.time(),
        "clock": "2026-01-01T00:00:00Z",
        "inverters": {"1": {"model": "SH10RT", "serial": "S", "overrides": {},
                            "counters": {"day": "y" * 400}}},
        "faults": [],
    }  # fmt: skip
    import json

    store.path.write_text(json.dumps(state))
    with caplog.at_level(logging.ERROR, logger="sungrow_sim.persistence"):
        assert store.load() is None
    (record,) = [r for r in caplog.records if "kept as" in r.getMessage()]
    reason = str(record.args[0])  # type: ignore[index]
    assert reason.startswith("1 errors, first: inverters.1.counters: ")
    first = reason.split("first: ", 1)[1]
    assert len(first) == 200, "the first error is cut at 200 characters"
    assert "day: 'yyy" in first

    store.path.write_bytes(b'{"saved_at": "\xff"}')
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="sungrow_sim.persistence"):
        assert store.load() is None
    assert any("not UTF-8 at byte 14" in r.getMessage() for r in caplog.records)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporaries_of_dead_processes_and_this_one_go_and_a_live_ones_stays(tmp_path):
    store = StateStore(tmp_path)
    dead, mine, alive = _dead_pid(), os.getpid(), os.getppid()
    names = {pid: f".{STATE_FILE}.{pid}.tmp" for pid in (dead, mine, alive)}
    others = ["a.txt", f".{STATE_FILE}.x.tmp", f"{STATE_FILE}", "z.tmp", "m.json"]
    for name in [*names.values(), *others]:
        (tmp_path / name).write_text("{}")
    removed = store.remove_stale_temporaries()
    assert sorted(removed) == sorted([tmp_path / names[dead], tmp_path / names[mine]])
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {names[alive], *others}
    assert StateStore(tmp_path / "missing").remove_stale_temporaries() == []
