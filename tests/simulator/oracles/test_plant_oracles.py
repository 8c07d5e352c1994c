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

import itertools
import json
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
    with pytest.raises(ValueError):  # five registers are not a time
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


def test_a_plant_fault_that_ran_out_since_the_last_look_reads_as_absent():
    """The plant asks for its fault kinds every tick; one that expired in between is gone."""
    now = [100.0]
    faults = FaultSet(clock=lambda: now[0])
    faults.add(FaultSpec(kind="grid-loss", duration_s=10, unit_id=2))
    assert faults.of_kind("grid-loss", 2) is not None
    assert faults.of_kind("grid-loss", 1) is None, "another unit's grid is up"
    now[0] = 110.0
    assert faults.of_kind("grid-loss", 2) is None
    assert faults.of_kind("grid-loss", 2) is None, "and stays gone"


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


def test_removing_faults_takes_only_those_still_active_and_counts_as_a_change():
    faults = FaultSet()
    seen = {faults.version}
    keep = faults.add(FaultSpec(kind="no-reply"))
    seen.add(faults.version)
    drop = faults.add(FaultSpec(kind="exception"))
    seen.add(faults.version)
    gone = FaultSet().add(FaultSpec(kind="grid-loss"))  # never active in this set
    faults.remove([drop, gone])
    assert [f.id for f in faults.active()] == [keep.id]
    assert faults.version not in seen, "a change must give a version not seen before"
    version = faults.version
    faults.remove([drop])  # already removed: no change
    assert faults.version == version


def test_the_clock_is_in_range_only_inside_the_documented_years():
    from sungrow_sim.clock import SimClock

    clock = SimClock(datetime(2026, 6, 21, tzinfo=UTC), 1.0, "Europe/Berlin", lambda: 0.0)
    assert clock.in_range()
    assert clock.in_range(datetime(2099, 12, 31, 22, 59, tzinfo=UTC))  # 23:59 in Berlin
    assert not clock.in_range(datetime(2099, 12, 31, 23, 0, tzinfo=UTC))  # 2100 in Berlin
    assert not clock.in_range(datetime(1999, 12, 31, 12, tzinfo=UTC))
    assert clock.in_range(datetime(1999, 12, 31, 23, 0, tzinfo=UTC))  # 2000-01-01 in Berlin
    assert not clock.in_range(datetime(1999, 12, 31, 22, 59, tzinfo=UTC))


def test_a_clock_out_of_range_says_the_inverter_time_and_the_range():
    from sungrow_sim.clock import SimClock

    clock = SimClock(datetime(2026, 6, 21, tzinfo=UTC), 1.0, "Europe/Berlin", lambda: 0.0)
    with pytest.raises(
        ClockRangeError,
        match=r"^2100-01-01T00:30:00 \(inverter time\) is outside the clock's range, "
        r"years 2000\.\.2099$",
    ):
        clock.set(datetime(2099, 12, 31, 23, 30, tzinfo=UTC))
    with pytest.raises(ClockRangeError, match=r"^9999-12-31T23:30:00\+00:00 is outside the "):
        clock.set(datetime(9999, 12, 31, 23, 30, tzinfo=UTC))  # Berlin would be year 10000
    assert clock.now() == datetime(2026, 6, 21, tzinfo=UTC), "a refused time changes nothing"


def test_the_simulated_clock_runs_in_utc_whatever_the_hosts_time_zone(monkeypatch):
    """now() is UTC (documented), also on a host whose local zone is not UTC."""
    from sungrow_sim.clock import SimClock

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        clock = SimClock(datetime(2026, 6, 21, 12, tzinfo=UTC), 1.0, "Europe/Berlin", lambda: 0.0)
        assert clock.now().utcoffset() == timedelta(0)
        clock.set(datetime(2026, 12, 24, 18, 0))  # naive: the inverter's (Berlin) time
        assert clock.now().utcoffset() == timedelta(0)
        assert clock.now() == datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


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
    kept: dict = snapshot  # type: ignore[assignment]
    assert kept["days"]["yield"][0] == 0.0
    assert kept["months"]["yield"][0] == 0.0
    assert kept["years"]["yield"]["2025"] == 1.0
    assert Counters(**kept).years == {"yield": {"2025": 1.0}}


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


def _state_with(counters: dict) -> str:
    """A state file of one SH10RT whose counters are `counters` (JSON text)."""
    inverter = {"model": "SH10RT", "serial": "S", "overrides": {}, "counters": counters}
    state = {"saved_at": time.time(), "clock": "2026-01-01T00:00:00Z",
             "inverters": {"1": inverter}, "faults": []}  # fmt: skip
    return json.dumps(state)


def _put_aside_reason(store: StateStore, caplog) -> str:
    """Load a damaged state file: nothing is restored, and the log says why it was kept."""
    with caplog.at_level(logging.ERROR, logger="sungrow_sim.persistence"):
        assert store.load() is None
    (record,) = [r for r in caplog.records if "kept as" in r.getMessage()]
    return str(record.args[0])  # type: ignore[index]


def test_a_rejected_state_file_is_logged_with_its_first_error_where_and_why(tmp_path, caplog):
    store = StateStore(tmp_path)
    store.path.write_text(_state_with({"day": "y" * 400}))
    reason = _put_aside_reason(store, caplog)
    assert reason.startswith("1 errors, first: inverters.1.counters: ")
    first = reason.split("first: ", 1)[1]
    assert len(first) == 200, "the first error is cut at 200 characters"
    assert "day: 'yyy" in first

    store.path.write_bytes(b'{"saved_at": "\xff"}')
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="sungrow_sim.persistence"):
        assert store.load() is None
    assert any("not UTF-8 at byte 14" in r.getMessage() for r in caplog.records)


def test_a_counter_too_large_for_a_float_puts_the_file_aside_and_names_the_error(tmp_path, caplog):
    """JSON integers have no limit; 1e400 as an integer cannot become a float counter."""
    store = StateStore(tmp_path)
    text = _state_with({"total_yield_kwh": 0})
    text = text.replace('"total_yield_kwh": 0', '"total_yield_kwh": 1' + "0" * 400)
    store.path.write_text(text)
    assert _put_aside_reason(store, caplog).startswith("OverflowError: ")
    (aside,) = tmp_path.glob(f"{STATE_FILE}.corrupt-*")
    assert aside.read_text() == text, "the damaged file is kept, byte for byte"


NO_SUCH_PIDS = range(90_000_001, 90_000_011)  # above Linux's largest pid_max (2**22)


def test_stale_temporaries_of_dead_processes_and_this_one_go_and_a_live_ones_stays(tmp_path):
    store = StateStore(tmp_path)
    # The live process is a child of this test (never a process the test did not start).
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mine, alive = os.getpid(), child.pid
        stale = [tmp_path / f".{STATE_FILE}.{pid}.tmp" for pid in (*NO_SUCH_PIDS, mine)]
        kept = [tmp_path / f".{STATE_FILE}.{alive}.tmp"]
        kept += [tmp_path / f"other-{n}.tmp" for n in range(20)]
        kept += [tmp_path / f".{STATE_FILE}.x.tmp", tmp_path / STATE_FILE]
        for path in [*stale, *kept]:
            path.write_text("{}")
        stuck = tmp_path / f".{STATE_FILE}.{NO_SUCH_PIDS[-1] + 1}.tmp"
        stuck.mkdir()  # cannot be unlinked: skipped, the others still go
        removed = store.remove_stale_temporaries()
        with pytest.raises(subprocess.TimeoutExpired):  # still running: not signalled
            child.wait(timeout=0.3)
        assert sorted(removed) == sorted(stale)
        assert sorted(tmp_path.iterdir()) == sorted([*kept, stuck])
        assert StateStore(tmp_path / "missing").remove_stale_temporaries() == []
    finally:
        child.kill()
        child.wait()


def test_a_temporary_of_another_users_live_process_stays(tmp_path, monkeypatch):
    """kill(pid, 0) answers EPERM for a live process of another user: it is alive.

    Tests run as root here, for whom EPERM never happens, so the kernel's answer is
    given by a stand-in for os.kill; ESRCH (no such process) still means gone.
    """
    theirs, gone = 4_000_001, 4_000_002

    def kill(pid: int, signal: int) -> None:
        assert signal == 0, "only probed, never signalled"
        if pid == theirs:
            raise PermissionError(1, "Operation not permitted")
        if pid == gone:
            raise ProcessLookupError(3, "No such process")

    monkeypatch.setattr(persistence.os, "kill", kill)
    for pid in (theirs, gone):
        (tmp_path / f".{STATE_FILE}.{pid}.tmp").write_text("{}")
    assert StateStore(tmp_path).remove_stale_temporaries() == [
        tmp_path / f".{STATE_FILE}.{gone}.tmp"
    ]
    assert (tmp_path / f".{STATE_FILE}.{theirs}.tmp").exists()


def test_the_day_and_month_arrays_come_back_from_the_state_file_as_saved():
    """A restart keeps every finished day and month, however small its energy."""
    c = Counters()
    c.days["yield"][4], c.days["export"][9], c.days["import"][30] = 0.5, 12.25, 0.05
    c.months["yield"][2], c.months["import"][10], c.months["battery_charge"][11] = 0.5, 321.0, 7.0
    state = SavedState(
        saved_at=time.time(),
        clock=datetime(2026, 11, 20, tzinfo=UTC),
        inverters={
            1: SavedInverter(model="SH10RT", serial="S", counters=c.as_dict(), overrides={})
        },
        faults=[],
    )
    back = SavedState.model_validate_json(state.model_dump_json()).counters_for(1, "SH10RT", "S")
    assert back is not None
    assert back.days == c.days
    assert back.months == c.months


def test_each_finished_month_is_filed_in_its_own_slot_october_to_december_too():
    """The calendar's month number is the slot (1-based): two-digit months included."""
    from sungrow_sim.plant.model import roll_calendar

    c = Counters()
    day = datetime(2026, 1, 1)
    while day <= datetime(2026, 12, 1):  # the roll into December files November
        roll_calendar(c, day.date().isoformat())
        c.monthly_yield_kwh = float(day.month)  # this month's energy: its number
        day += timedelta(days=1)
    assert c.months["yield"] == [float(m) for m in range(1, 12)] + [0.0]


def test_a_battery_charged_past_full_stops_at_100_and_its_state_can_be_saved():
    """Forced charging into a full battery ends at 100 % SOC.

    The state file written then passes the state file's own 0..100 check on the next start.
    """
    from sungrow_sim.config import InverterConfig, ServeConfig
    from sungrow_sim.service import build

    start = datetime(2026, 6, 21, 12, tzinfo=UTC)
    config = ServeConfig(
        inverters=[InverterConfig(model="SH10RT", battery_kwh=10.0, serial="SIMFULL001")],
        start_time=start,
        commissioned=start,
        time_scale=60.0,
        cloudiness=0.0,
    )
    sim = build(config)
    wall = [0.0]
    sim.clock._monotonic = lambda: wall[0]
    sim.set_clock(start)
    sim.set_battery(1, soc_pct=99.95, power_w=5000.0)
    for _ in range(120):  # two simulated hours in one-second wall steps
        wall[0] += 1.0
        sim.tick()
    state = persistence.snapshot(sim)  # validates, as a restart's load does
    assert SavedState.model_validate_json(state.model_dump_json()).inverters[1].counters[
        "battery_soc_pct"
    ] == pytest.approx(100.0, abs=1e-9)


# -- the plant ---------------------------------------------------------------------------
# The house load's documented profile (README, "The plant"): a 350 W base; bell curves
# A exp(-((h - centre) / width)^2) for the peaks, on weekdays 900 W at 07:00 (1 h) and
# 1500 W at 19:00 (2 h), on weekends 800 W at 09:00 (1.6 h), 600 W at 13:00 (2 h) and
# the same evening peak; everything times 1 + 0.25 cos(2 pi (day of year - 15) / 365);
# plus an 80 W ripple with a period of 0.37 h.
BASE_W = 350.0
PEAKS = {
    False: ((900.0, 7.0, 1.0), (1500.0, 19.0, 2.0)),
    True: ((800.0, 9.0, 1.6), (600.0, 13.0, 2.0), (1500.0, 19.0, 2.0)),
}
RIPPLE_W, RIPPLE_H = 80.0, 0.37
MUNICH = (48.14, 11.58)


def season(day: int) -> float:
    return 1 + 0.25 * math.cos(2 * math.pi * (day - 15) / 365)


def profile_energy_wh(start_h: float, end_h: float, weekend: bool, day: int) -> float:
    """The documented profile's energy from `start_h` to `end_h` without the ripple (Wh).

    The integral of a bell curve in closed form: A w sqrt(pi) / 2 (erf(b) - erf(a)).
    """
    peaks = sum(
        amp * width * math.sqrt(math.pi) / 2
        * (math.erf((end_h - mid) / width) - math.erf((start_h - mid) / width))
        for amp, mid, width in PEAKS[weekend]
    )  # fmt: skip
    return (BASE_W * (end_h - start_h) + peaks) * season(day)


def profile_w(hour: float, weekend: bool, day: int) -> float:
    """The documented profile at an instant, without the ripple (W)."""
    peaks = sum(a * math.exp(-(((hour - m) / w) ** 2)) for a, m, w in PEAKS[weekend])
    return (BASE_W + peaks) * season(day)


def make_plant(family: str = "hybrid", seed: int = 0, cloudiness: float = 0.0, **config):
    from sungrow_sim.plant.model import Plant, PlantConfig

    settings = {
        "family": family,
        "nominal_power_w": 10_000,
        "phases": 3,
        "mppt_count": 2,
        "array_kwp": 10.0,
        "battery_kwh": 10.0 if family == "hybrid" else 0.0,
        "latitude": MUNICH[0],
        "longitude": MUNICH[1],
        "seed": seed,
        "cloudiness": cloudiness,
    }
    settings.update(config)
    return Plant(PlantConfig(**settings))  # type: ignore[arg-type]


@pytest.mark.parametrize("day", [15, 106, 197, 290])
@pytest.mark.parametrize("weekend", [False, True], ids=["weekday", "weekend"])
def test_the_house_load_averages_to_the_documented_profile_over_each_ripple_period(day, weekend):
    """Over whole ripple periods the ripple cancels: each mean is the profile's integral."""
    plant = make_plant(seed=3)
    samples = 64  # midpoints: a whole period of a sine sums to zero exactly
    start = 0.0
    while start + RIPPLE_H <= 24:
        width = RIPPLE_H / samples
        mean = (
            sum(plant.load_at(start + (i + 0.5) * width, weekend, day) for i in range(samples))
            / samples
        )
        expected = profile_energy_wh(start, start + RIPPLE_H, weekend, day) / RIPPLE_H
        assert mean == pytest.approx(expected, abs=0.3), f"{start:.2f} h on day {day}"
        start += RIPPLE_H


def test_the_house_load_ripple_is_80_w_around_the_profile():
    plant = make_plant(seed=5)
    deviations = [
        plant.load_at(h, False, 106) - profile_w(h, False, 106)
        for h in (2 + i * RIPPLE_H / 400 for i in range(400))
    ]
    assert max(deviations) == pytest.approx(RIPPLE_W, abs=0.5)
    assert min(deviations) == pytest.approx(-RIPPLE_W, abs=0.5)


@pytest.mark.parametrize("date", ["2026-04-16", "2026-04-18", "2026-01-10", "2026-07-19"])
def test_a_local_days_house_load_adds_up_to_the_documented_daily_energy(date):
    """Minute by minute in Berlin's local time: weekday or weekend and the day's season."""
    plant = make_plant(seed=1)
    midnight = datetime.fromisoformat(date).replace(tzinfo=ZoneInfo("Europe/Berlin"))
    weekend = midnight.weekday() >= 5
    day = midnight.timetuple().tm_yday
    energy_wh = sum(plant.house_load(midnight + timedelta(minutes=m)) for m in range(1440)) / 60
    # Left-point sums of the smooth profile; the ripple adds at most 5 Wh over the day.
    expected = sum(profile_w(m / 60, weekend, day) for m in range(1440)) / 60
    assert energy_wh == pytest.approx(expected, abs=8), f"{date}: {energy_wh:.0f} Wh"
    assert 8_000 < energy_wh < 30_000, "a household's day, in Wh"


def test_the_house_load_is_positive_all_year_and_peaks_in_the_evening():
    plant = make_plant(seed=2)
    year = datetime(2026, 1, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    loads = [plant.house_load(year + timedelta(minutes=17 * i)) for i in range(365 * 85)]
    assert min(loads) > 0
    monday = datetime(2026, 4, 13, tzinfo=ZoneInfo("Europe/Berlin"))
    night = [plant.house_load(monday + timedelta(hours=2, minutes=m)) for m in range(120)]
    evening = [plant.house_load(monday + timedelta(hours=18, minutes=m)) for m in range(120)]
    assert max(night) < min(evening)
    winter = sum(plant.load_at(h / 10, False, 15) for h in range(240))
    summer = sum(plant.load_at(h / 10, False, 197) for h in range(240))
    assert winter > 1.5 * summer  # +25 % against -25 %


def haurwitz(elevation_deg: float) -> float:
    """Haurwitz's clear-sky GHI (W/m2), 1098 cos z exp(-0.057 / cos z), here from its paper."""
    cos_z = math.sin(math.radians(elevation_deg))
    return 1098.0 * cos_z * math.exp(-0.057 / cos_z) if cos_z > 0 else 0.0


# NOAA solar calculator (as in test_sun.py): latitude, longitude, solar noon, elevation
NOAA_POSITIONS = [
    (48.14, 11.58, datetime(2026, 6, 21, 11, 15, 30, tzinfo=UTC), 65.30),  # Munich
    (-33.87, 151.21, datetime(2026, 12, 21, 1, 53, tzinfo=UTC), 79.57),  # Sydney
    (40.71, -74.01, datetime(2026, 3, 20, 17, 3, 30, tzinfo=UTC), 49.33),  # New York
]


@pytest.mark.parametrize(("lat", "lon", "when", "elevation"), NOAA_POSITIONS)
def test_clear_sky_irradiance_is_haurwitz_at_the_published_solar_position(
    lat, lon, when, elevation
):
    plant = make_plant(latitude=lat, longitude=lon, cloudiness=0.0)
    # 1.2 degrees of the simulator's solar position error: at most ~10 W/m2 here.
    tolerance = abs(haurwitz(elevation + 1.2) - haurwitz(elevation)) + 2
    assert plant.irradiance(when, night=False) == pytest.approx(haurwitz(elevation), abs=tolerance)
    assert plant.irradiance(when, night=True) == 0.0
    later = when + timedelta(hours=12)  # the other side of the earth's turn: sun down
    assert plant.irradiance(later, night=False) == 0.0


def test_clouds_only_take_light_away_within_the_cloudiness_and_change_smoothly():
    cloudiness = 0.6
    plant = make_plant(cloudiness=cloudiness, seed=9)
    clear = make_plant(cloudiness=0.0, seed=9)
    noon = datetime(2026, 6, 21, 11, 15, tzinfo=UTC)
    ratios = []
    for day in range(20):
        when = noon + timedelta(days=day)
        ratios.append(plant.irradiance(when, False) / clear.irradiance(when, False))
    assert all(1 - cloudiness - 1e-9 <= r <= 1 + 1e-9 for r in ratios)
    assert max(ratios) == pytest.approx(1.0), "there are clear spells"
    assert min(ratios) < 1 - cloudiness / 3, "and clouds"
    factors = [plant.cloud_factor(h / 60) for h in range(60 * 48)]
    # Three waves of 0.7, 1.9 and 5.3 h: the factor moves by less than 9 % a minute.
    assert max(abs(b - a) for a, b in itertools.pairwise(factors)) < 0.09 * cloudiness


def step_through(plant, start: datetime, minutes: int, zone: str = "UTC", **controls):
    """Step a plant minute by minute; the test's own integral of the reported flows (kWh)."""
    from sungrow_sim.plant.model import Controls

    control = Controls(**controls)
    names = ("yield", "ac", "export", "import", "direct", "charge", "discharge", "run_min")
    total: dict[str, float] = dict.fromkeys(names, 0.0)
    for minute in range(1, minutes + 1):
        when = start + timedelta(minutes=minute)
        plant.step(when, when.astimezone(ZoneInfo(zone)), 60.0, control)
        f = plant.flows
        h = 1 / 60 / 1000  # one minute, W -> kWh
        total["yield"] += f.pv_w * h
        total["ac"] += f.ac_w * h
        total["export"] += max(f.export_w, 0) * h
        total["import"] += max(-f.export_w, 0) * h
        total["direct"] += f.direct_w * h
        total["charge"] += max(f.battery_w, 0) * h
        total["discharge"] += max(-f.battery_w, 0) * h
        total["run_min"] += 1 if f.state == "run" else 0
    return total


FLOW_OF = {
    "yield": "yield",
    "export": "export",
    "import": "import",
    "direct": "direct",
    "battery_charge": "charge",
    "battery_discharge": "discharge",
}


def test_every_periods_counters_are_the_integrated_flows_of_a_hybrid_day():
    plant = make_plant(seed=4)
    plant.counters.battery_soc_pct = 8.0  # down to min SOC (5 %) before dawn, then imports
    start = datetime(2026, 6, 21, 0, 0, tzinfo=UTC)
    flows = step_through(plant, start, 23 * 60)
    c = plant.counters
    assert flows["yield"] > 30 and flows["import"] > 0.5 and flows["export"] > 1
    assert flows["charge"] > 1 and flows["discharge"] > 1 and flows["direct"] > 1
    for name, key in FLOW_OF.items():
        for period in ("total", "daily", "monthly", "yearly"):
            counter = getattr(c, f"{period}_{name}_kwh")
            assert counter == pytest.approx(flows[key], rel=1e-9), f"{period}_{name}_kwh"
    assert c.daily_running_time_min == pytest.approx(flows["run_min"])
    assert c.total_running_time_h == pytest.approx(flows["run_min"] / 60)
    # The SOC moves by the served battery energy over the capacity, 0.965 each way
    # (abs: a full battery's last minute may round past 100 % and be cut there).
    stored = flows["charge"] * 0.965 - flows["discharge"] / 0.965
    assert c.battery_soc_pct == pytest.approx(8.0 + stored / 10.0 * 100, abs=1e-3)


def test_a_string_inverter_yields_its_ac_output_not_its_dc_input():
    plant = make_plant("string", seed=4)
    flows = step_through(plant, datetime(2026, 6, 21, 4, 0, tzinfo=UTC), 12 * 60)
    assert flows["ac"] > 30
    assert plant.counters.total_yield_kwh == pytest.approx(flows["ac"], rel=1e-9)
    assert plant.counters.daily_running_time_min == flows["run_min"] > 600
    assert plant.counters.battery_soc_pct == 50.0, "no battery, no charge moves"


def test_the_day_month_and_year_roll_over_at_local_midnight():
    """New Year in Berlin is 23:00 UTC: the day, month and year close then, not at 00:00 UTC."""
    zone = "Europe/Berlin"
    midnight = datetime(2027, 1, 1, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    assert midnight == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # zoneinfo, as a check
    plant = make_plant("string")
    # A step's flows are booked at its end: the one ending at 00:00 is the new day's.
    last = midnight - timedelta(minutes=1)
    before = step_through(plant, last - timedelta(hours=2), 120, zone, load_w=1200.0)
    c = plant.counters
    assert c.daily_import_kwh == pytest.approx(before["import"]) == pytest.approx(2.4)
    assert c.monthly_import_kwh == c.yearly_import_kwh == c.daily_import_kwh
    after = step_through(plant, last, 90, zone, load_w=1200.0)
    assert after["import"] == pytest.approx(1.8)
    assert c.daily_import_kwh == pytest.approx(after["import"])
    assert c.monthly_import_kwh == pytest.approx(after["import"])
    assert c.yearly_import_kwh == pytest.approx(after["import"])
    assert c.total_import_kwh == pytest.approx(before["import"] + after["import"])
    assert c.months["import"] == [0.0] * 12, "a new year starts with no filed months"
    assert c.years["import"]["2026"] == pytest.approx(before["import"]), "2026 filed"
    assert c.days["import"] == [0.0] * 31, "a new month starts with no filed days"
    assert c.daily_running_time_min == 0.0, "no production since midnight"


def test_a_day_roll_inside_a_month_files_the_day_and_keeps_the_month():
    zone = "America/New_York"
    midnight = datetime(2026, 3, 10, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    plant = make_plant("string")
    last = midnight - timedelta(minutes=1)
    before = step_through(plant, last - timedelta(hours=1), 60, zone, load_w=600.0)
    after = step_through(plant, last, 30, zone, load_w=600.0)
    c = plant.counters
    assert c.days["import"][8] == pytest.approx(before["import"]), "March 9th filed"
    assert c.daily_import_kwh == pytest.approx(after["import"])
    assert c.monthly_import_kwh == pytest.approx(before["import"] + after["import"])
    assert c.months["import"] == [0.0] * 12


def test_the_work_state_follows_faults_overrides_the_grid_and_the_start_threshold():
    from sungrow_sim.plant.model import Controls, PlantSettings

    noon = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)
    string, hybrid = make_plant("string"), make_plant("hybrid")

    def state(plant, when=noon, **controls) -> str:
        plant.step(when, when, 60.0, Controls(**controls))
        return plant.flows.state

    assert state(string) == "run"
    assert state(string, fault_code=38) == "fault"
    assert state(string, state="stop") == "stop"
    assert state(string, state="standby") == "standby"
    assert state(string, grid_lost=True) == "fault", "a string inverter trips off-grid"
    assert state(hybrid, grid_lost=True) == "run", "a hybrid with backup runs off-grid"
    no_backup = Controls(grid_lost=True, settings=PlantSettings(backup=False))
    hybrid.step(noon, noon, 60.0, no_backup)
    assert hybrid.flows.state == "fault"
    night = datetime(2026, 6, 21, 23, 0, tzinfo=UTC)
    assert state(string, night) == "standby"
    assert state(string, night, power_w=0.0) == "run", "an AC override runs the inverter"
    # Dawn: it starts once the AC it could give passes 0.5 % of its nominal power.
    dawn = datetime(2026, 6, 21, 2, 30, tzinfo=UTC)
    seen = []
    for minute in range(150):
        when = dawn + timedelta(minutes=minute)
        string.step(when, when, 60.0, Controls())
        f = string.flows
        available = min(10.0 * f.irradiance * 0.9 * 0.97, 10_000)
        seen.append((available, f.state, f.ac_w))
    assert {s for _, s, _ in seen} == {"standby", "run"}
    for available, work, ac in seen:
        assert (work == "run") == (available > 50), (available, work)
        if work == "run":
            assert ac == pytest.approx(available, abs=0.6)


def test_a_long_step_integrates_like_minute_steps_and_ends_at_its_instant():
    from sungrow_sim.plant.model import Controls

    start = datetime(2026, 6, 21, 6, 0, tzinfo=UTC)
    short = make_plant("string", seed=2)
    by_minute = step_through(short, start, 360)
    long = make_plant("string", seed=2)
    end = start + timedelta(hours=6)
    long.step(end, end, 6 * 3600.0, Controls())
    assert long.counters.total_yield_kwh == pytest.approx(by_minute["ac"], rel=1e-6)
    assert long.counters.daily_running_time_min == pytest.approx(360)
    assert long.flows.irradiance == pytest.approx(long.irradiance(end, False))
    # A coarse bound on the substeps gives the same energy for a smooth sun.
    coarse = make_plant("string", seed=2)
    coarse.step(end, end, 6 * 3600.0, Controls(), max_substep_s=600.0)
    assert coarse.counters.total_yield_kwh == pytest.approx(by_minute["ac"], rel=0.01)
    none = make_plant("string", seed=2)
    none.step(end, end, -5.0, Controls())
    assert none.counters.total_yield_kwh == 0.0, "time going back produces nothing"


def test_the_seeded_mppt_shares_leans_shades_and_phase_weights_stay_in_their_ranges():
    """Shares 0.85..1.15 before normalising, leans +-0.25, shade 07:30-17:30, phases +-3 %."""
    shares, leans, hours, depths, weights = [], [], [], [], []
    for seed in range(200):
        plant = make_plant(seed=seed, mppt_count=3)
        assert sum(plant.mppt_shares) == pytest.approx(1.0)
        shares.append(max(plant.mppt_shares) / min(plant.mppt_shares))
        leans.extend(plant.mppt_lean)
        hours.extend(h for h, _ in plant.mppt_shade)
        depths.extend(d for _, d in plant.mppt_shade)
        weights.extend(plant.phase_weights)
        assert len(plant.phase_weights) == 3 and len(plant.mppt_lean) == 3
    assert 1.2 < max(shares) <= 1.15 / 0.85
    assert -0.25 <= min(leans) < -0.2 and 0.2 < max(leans) <= 0.25
    assert 7.5 <= min(hours) < 8.0 and 17.0 < max(hours) <= 17.5
    assert 0.15 <= min(depths) < 0.17 and 0.43 < max(depths) <= 0.45
    assert 0.97 <= min(weights) < 0.975 and 1.025 < max(weights) <= 1.03
    assert make_plant(seed=1).mppt_shade != make_plant(seed=2).mppt_shade
    assert len(make_plant(mppt_count=0).mppt_shares) == 1


def test_without_a_meter_a_string_inverter_sees_no_house_and_exports_its_output():
    from sungrow_sim.plant.model import Controls

    plant = make_plant("string", meter=False)
    noon = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)
    plant.step(noon, noon, 60.0, Controls(load_w=2000.0))
    f = plant.flows
    assert f.ac_w > 5000
    assert (f.load_w, f.direct_w) == (0.0, 0.0)
    assert f.export_w == f.ac_w


def test_the_outside_air_follows_munichs_climate_by_season_and_hour():
    """The outside air at the default site, Munich (48.14 N, 11.58 E), as its climate is.

    January near 0 degC, July near 19 degC (climate normals), the day's minimum around
    sunrise, its maximum mid-afternoon, a daily range of several kelvin, and no jumps
    between minutes, days or years.
    """
    from sungrow_sim.plant import ambient_c

    def month_mean(month: int) -> float:
        days = [datetime(2026, month, d, h) for d in range(1, 29) for h in range(24)]
        return sum(ambient_c(t) for t in days) / len(days)

    january, july = month_mean(1), month_mean(7)
    assert -3.0 <= january <= 3.0
    assert 16.0 <= july <= 22.0
    assert all(month_mean(m) < month_mean(m + 1) for m in range(1, 7)), "warming to July"
    assert all(month_mean(m) > month_mean(m + 1) for m in range(7, 12)), "cooling after"
    previous = ambient_c(datetime(2025, 12, 31, 23, 59))
    day = datetime(2026, 1, 1)
    while day < datetime(2027, 1, 1):
        minutes = [ambient_c(day + timedelta(minutes=m)) for m in range(0, 1440, 10)]
        assert -30.0 <= min(minutes) and max(minutes) <= 40.0, day
        coldest, warmest = minutes.index(min(minutes)), minutes.index(max(minutes))
        assert 1 * 6 <= coldest <= 8 * 6, f"{day:%m-%d}: coldest at {coldest / 6:.1f} h"
        assert 13 * 6 <= warmest <= 17 * 6, f"{day:%m-%d}: warmest at {warmest / 6:.1f} h"
        assert 6.0 <= max(minutes) - min(minutes) <= 16.0, "a day's range"
        assert abs(minutes[0] - previous) < 0.2, f"no jump at midnight before {day:%m-%d}"
        steps = [abs(b - a) for a, b in itertools.pairwise(minutes)]
        assert max(steps) < 0.5, "smooth within the day (10-minute steps)"
        previous = ambient_c(day + timedelta(minutes=1439))
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("utc", "longitude", "solar"),
    [
        (datetime(2026, 6, 21, 12, tzinfo=UTC), 15.0, 13.0),
        (datetime(2026, 6, 21, 12, tzinfo=UTC), -75.0, 7.0),
        (datetime(2026, 3, 1, 23, 0, tzinfo=UTC), 30.0, 1.0),
        (datetime(2026, 3, 1, 0, 30, tzinfo=UTC), -15.0, 23.5),
    ],
)
def test_the_plants_solar_hour_is_mean_solar_time(utc, longitude, solar):
    """Mean solar time: UTC plus 4 minutes per degree east, wrapped to 0..24 h."""
    plant = make_plant(longitude=longitude)
    assert plant.solar_hour(utc) == pytest.approx(solar, abs=1e-9)


# -- the sun -----------------------------------------------------------------------------
# NOAA's published solstice noon elevations (as in test_sun.py). At the solstices the
# declination is at its extreme and the simulator's formula is within 0.02 degrees of
# NOAA's (its larger error near the equinoxes is why test_sun.py allows 1.2 degrees).
SOLSTICE_NOONS = [
    (48.14, 11.58, datetime(2026, 6, 21, 11, 15, 30, tzinfo=UTC), 65.30),  # Munich
    (-33.87, 151.21, datetime(2026, 12, 21, 1, 53, tzinfo=UTC), 79.57),  # Sydney
]


@pytest.mark.parametrize(("lat", "lon", "noon", "elevation"), SOLSTICE_NOONS)
def test_the_solstice_noon_elevation_is_noaas_within_a_tenth_of_a_degree(
    lat, lon, noon, elevation
):
    from sungrow_sim.plant.sun import solar_elevation_deg

    peak = max(
        solar_elevation_deg(noon + timedelta(seconds=s), lat, lon) for s in range(-240, 241, 5)
    )
    assert peak == pytest.approx(elevation, abs=0.1)


def test_the_sun_moves_smoothly_across_second_minute_and_hour_boundaries():
    """Elevation is continuous in time: no jump where a clock field rolls over."""
    from sungrow_sim.plant.sun import solar_elevation_deg

    start = datetime(2026, 6, 21, 7, 59, 58, 500_000, tzinfo=UTC)  # morning: the sun rises
    times = [start + timedelta(milliseconds=100 * i) for i in range(40)]  # across 08:00:00
    times += [start + timedelta(seconds=s) for s in range(130)]  # across two minutes
    for series in (times[:40], times[40:]):
        values = [solar_elevation_deg(t, *MUNICH) for t in series]
        steps = [b - a for a, b in itertools.pairwise(values)]
        assert all(s > 0 for s in steps), "the morning sun rises"
        assert max(steps) / min(steps) < 1.01, "a jump where a field rolls over"


def test_clear_sky_ghi_is_haurwitzs_published_formula():
    """Haurwitz (1945): GHI = 1098 cos z exp(-0.057 / cos z); nothing with the sun down."""
    from sungrow_sim.plant.sun import clear_sky_ghi

    for elevation in (2, 5, 10, 30, 45, 65.3, 90):
        assert clear_sky_ghi(elevation) == pytest.approx(haurwitz(elevation), rel=1e-9)
    assert clear_sky_ghi(0.0) == clear_sky_ghi(-10.0) == 0.0


def test_cloudy_irradiance_changes_smoothly_from_minute_to_minute():
    plant = make_plant(cloudiness=0.6, seed=9)
    clear = make_plant(cloudiness=0.0, seed=9)
    start = datetime(2026, 6, 21, 9, 0, tzinfo=UTC)
    ratios = [
        plant.irradiance(t, False) / clear.irradiance(t, False)
        for t in (start + timedelta(minutes=m) for m in range(360))
    ]
    assert max(abs(b - a) for a, b in itertools.pairwise(ratios)) < 0.09 * 0.6
    assert max(ratios) - min(ratios) > 0.1, "the clouds come and go within six hours"


def test_the_house_load_at_a_local_time_is_the_profile_at_that_local_hour():
    plant = make_plant(seed=6)
    saturday = datetime(2026, 4, 18, tzinfo=ZoneInfo("Europe/Berlin"))
    for minute in range(0, 1440, 7):
        local = saturday + timedelta(minutes=minute)
        hour = minute / 60  # 08:30 is hour 8.5
        assert plant.house_load(local) == round(plant.load_at(hour, True, 108)), local


def test_without_a_meter_the_export_limit_holds_at_the_ac_output():
    from sungrow_sim.plant.model import Controls, PlantSettings

    plant = make_plant("string", meter=False)
    noon = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)
    plant.step(noon, noon, 60.0, Controls(settings=PlantSettings(export_limit_w=3000.0)))
    assert plant.flows.ac_w == 3000
    assert plant.flows.export_w == 3000


def test_a_failed_save_raises_the_disks_error_even_when_the_temporary_cannot_go(
    tmp_path, monkeypatch
):
    from pathlib import Path

    store = StateStore(tmp_path)

    def refuse(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(persistence.os, "replace", refuse)
    monkeypatch.setattr(Path, "unlink", refuse)
    with pytest.raises(OSError, match="No space left"):
        store.save(SavedState(saved_at=time.time(), clock=datetime(2026, 1, 1, tzinfo=UTC),
                              inverters={}, faults=[]))  # fmt: skip


def test_a_long_step_takes_the_house_load_at_each_substeps_own_local_time():
    from sungrow_sim.plant.model import Controls

    zone = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 1, 14, 16, 0, tzinfo=UTC)  # 17:00 in Berlin: dark, evening peak
    end = start + timedelta(hours=4)
    plant = make_plant("string", seed=8)
    plant.step(end, end.astimezone(zone), 4 * 3600.0, Controls())
    expected_kwh = sum(
        plant.house_load((start + timedelta(minutes=m)).astimezone(zone)) for m in range(1, 241)
    ) / 60 / 1000  # fmt: skip
    assert plant.counters.total_import_kwh == pytest.approx(expected_kwh, rel=1e-9)


def test_the_sun_does_not_depend_on_the_machines_time_zone(monkeypatch):
    from sungrow_sim.plant.sun import solar_elevation_deg

    noon = datetime(2026, 6, 21, 11, 15, 30, tzinfo=UTC)
    at_utc = solar_elevation_deg(noon, *MUNICH)
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert solar_elevation_deg(noon, *MUNICH) == at_utc
        berlin = noon.astimezone(ZoneInfo("Europe/Berlin"))
        assert solar_elevation_deg(berlin, *MUNICH) == at_utc
    finally:
        monkeypatch.undo()
        time.tzset()


def _amplitude(values: list[float], step_h: float, period_h: float) -> float:
    """The amplitude of one frequency in a sampled series (a single DFT term)."""
    re = im = 0.0
    for i, v in enumerate(values):
        angle = 2 * math.pi * i * step_h / period_h
        re += v * math.cos(angle)
        im += v * math.sin(angle)
    return 2 * math.hypot(re, im) / len(values)


def test_the_clouds_are_three_waves_of_07_19_and_53_hours_that_can_take_the_whole_cloudiness():
    """README: the cloud factor is 1 - cloudiness x max(0, mean of the three waves)."""
    cloudiness = 0.5
    plant = make_plant(cloudiness=cloudiness, seed=11)
    step_h = 1 / 12  # five minutes
    factors = [plant.cloud_factor(i * step_h) for i in range(12 * 24 * 120)]  # 120 days
    assert min(factors) < 1 - 0.95 * cloudiness, "all three waves together: nearly all of it"
    assert min(factors) >= 1 - cloudiness - 1e-12
    documented = [_amplitude(factors, step_h, p) for p in (0.7, 1.9, 5.3)]
    elsewhere = [_amplitude(factors, step_h, p) for p in (0.45, 1.2, 1.7, 2.9, 4.1, 6.3, 9.0)]
    assert min(documented) > 4 * max(elsewhere), (documented, elsewhere)
