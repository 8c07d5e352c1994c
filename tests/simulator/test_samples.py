"""The sample ring (Contract C): spacing, a simulated day at most, a clock set back."""

from __future__ import annotations

from sungrow_sim.samples import DAY_S, Sample, SampleRing, SampleStore


def sample(t: float, pv: float = 0.0) -> Sample:
    return Sample(t=t, pv_w=pv, load_w=300.0, battery_w=None, grid_w=pv - 300.0, soc_pct=None)


def test_one_sample_per_spacing_at_most():
    ring = SampleRing(spacing_s=60)
    kept = [ring.record(sample(t)) for t in (0, 10, 59.9, 60, 61, 125)]
    assert kept == [True, False, False, True, False, True]
    assert [s.t for s in ring.items()] == [0, 60, 125]


def test_a_day_at_most_and_bounded_whatever_the_rate():
    ring = SampleRing(spacing_s=60)
    for minute in range(3 * 1440):
        ring.record(sample(minute * 60.0))
    times = [s.t for s in ring.items()]
    assert times[-1] - times[0] <= DAY_S
    assert times[-1] - times[0] >= DAY_S - 60
    assert len(ring) <= 1441


def test_a_long_gap_drops_the_old_day():
    ring = SampleRing(spacing_s=60)
    ring.record(sample(0))
    ring.record(sample(60))
    ring.record(sample(3 * DAY_S))
    assert [s.t for s in ring.items()] == [3 * DAY_S]


def test_a_clock_set_back_starts_afresh():
    ring = SampleRing(spacing_s=60)
    for t in (1000, 1060, 1120):
        ring.record(sample(t))
    assert ring.record(sample(500))
    assert [s.t for s in ring.items()] == [500]


def test_store_keeps_readings_per_unit_and_string_models_have_no_battery():
    store = SampleStore(spacing_s=60)
    readings = {"pv_power_w": 1200, "load_power_w": 400, "grid_power_w": 800}
    hybrid = {**readings, "battery_power_w": -250, "battery_soc_pct": 61.5}
    assert store.record(1, 0.0, readings) is not None
    assert store.record(2, 0.0, hybrid) is not None
    assert store.record(1, 30.0, readings) is None
    (string,) = store.of(1)
    (battery,) = store.of(2)
    assert (string.pv_w, string.grid_w, string.battery_w, string.soc_pct) == (
        1200,
        800,
        None,
        None,
    )
    assert (battery.battery_w, battery.soc_pct) == (-250, 61.5)
    assert store.of(3) == []
