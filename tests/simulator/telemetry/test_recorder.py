"""The request recorder, the log formats and the repeat limiter, in isolation."""

from __future__ import annotations

import io
import json
import logging

from sungrow_sim.registers import catalogue
from sungrow_sim.telemetry import Recorder, holding_names
from sungrow_sim.telemetry.logs import JsonFormatter, RepeatFilter, TextFormatter


class Ticker:
    """A clock that moves only when told."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def read(rec: Recorder, address: int, outcome: str = "ok", peer: str = "10.0.0.1") -> None:
    rec.request("modbus", peer, 1, "input", "read", address, 10, outcome, 0.001, 12, 31)


def test_one_entry_per_peer_unit_table_function_address_and_count():
    clock = Ticker()
    rec = Recorder(clock=clock)
    read(rec, 5001)
    clock.now += 2.5
    read(rec, 5001, "exception-2")
    read(rec, 5001, peer="10.0.0.2")
    read(rec, 5011)

    entries = rec.requests()

    assert [(e["peer"], e["address"], e["requests"]) for e in entries] == [
        ("10.0.0.1", 5001, 2),
        ("10.0.0.2", 5001, 1),
        ("10.0.0.1", 5011, 1),
    ]
    first = entries[0]
    assert first["outcomes"] == {"ok": 1, "exception-2": 1}
    assert first["last_outcome"] == "exception-2"
    assert first["first"] == "2027-01-15T08:00:00.000+00:00"
    assert first["last"] == "2027-01-15T08:00:02.500+00:00"
    assert set(first) == {
        "protocol", "peer", "unit_id", "table", "function", "address", "count",
        "requests", "outcomes", "last_outcome", "first", "last",
    }  # fmt: skip


class Stepper(Ticker):
    """A clock one second further at every reading."""

    def __call__(self) -> float:
        self.now += 1
        return self.now


def test_the_record_is_bounded_dropping_the_least_recently_seen_but_counters_keep_all():
    rec = Recorder(max_entries=3, clock=Stepper())
    for address in (1, 2, 3):
        read(rec, address)
    read(rec, 1)  # seen again: now the most recent
    read(rec, 4)  # one too many: 2 goes

    assert [e["address"] for e in rec.requests()] == [1, 3, 4]
    assert rec.counts[("modbus", "read", 1, "input", "ok")] == 5
    assert rec.latency["modbus"].count == 5
    assert rec.bytes_in["modbus"] == 5 * 12
    assert rec.bytes_out["modbus"] == 5 * 31
    assert rec.entry_count == 3


def test_a_full_record_drops_an_eighth_at_a_time_and_keeps_the_totals():
    rec = Recorder(max_entries=64, clock=Stepper())
    for address in range(1, 1001):  # a fuzzer's worth of distinct ranges
        read(rec, address, "exception-2")

    assert 56 <= rec.entry_count <= 64
    kept = [e["address"] for e in rec.requests()]
    assert kept == sorted(kept) and kept[-1] == 1000  # the most recent are kept
    assert rec.counts == {("modbus", "read", 1, "input", "exception-2"): 1000}
    assert rec.bytes_in == {"modbus": 12000}


def test_a_fleet_scrape_fits_the_default_record():
    # One SunGather-like logger reading 30 ranges from each of 247 unit ids, twice: the
    # second scrape finds every entry (nothing was dropped and nothing churns).
    rec = Recorder(clock=Stepper())
    for _ in range(2):
        for unit in range(1, 248):
            for address in range(5001, 5001 + 30 * 10, 10):
                rec.request("modbus", "10.0.0.9", unit, "input", "read", address, 10, "ok")
    assert rec.entry_count == 247 * 30
    assert {e["requests"] for e in rec.requests()} == {2}


def test_unit_filter():
    rec = Recorder()
    read(rec, 5001)
    rec.request("http", "10.0.0.1", 2, "input", "read", 5001, 10, "ok")

    assert [e["unit_id"] for e in rec.requests(unit_id=2)] == [2]
    assert rec.requests(unit_id=3) == []


def test_latency_histogram_is_cumulative_with_inf_last():
    rec = Recorder()
    for seconds in (0.00005, 0.0007, 0.0007, 3.0, 99.0):
        rec.request("ws", "p", None, None, "connect", None, None, "ok", seconds)

    buckets = dict(rec.latency["ws"].cumulative())

    assert buckets["0.0001"] == 1
    assert buckets["0.001"] == 3
    assert buckets["2.5"] == 3
    assert buckets["5.0"] == 4
    assert buckets["10.0"] == 4
    assert buckets["+Inf"] == 5
    assert rec.latency["ws"].sum == sum((0.00005, 0.0007, 0.0007, 3.0, 99.0))


def test_a_fired_fault_is_counted_by_kind_and_protocol():
    rec = Recorder()
    rec.request("sungrow", "p", 1, "input", "read", 5001, 1, "no-reply", fault="no-reply")
    rec.fault_fired("refuse-connections", "modbus")

    assert rec.faults_fired == {("no-reply", "sungrow"): 1, ("refuse-connections", "modbus"): 1}


def test_writes_are_counted_by_the_names_of_the_registers_they_touch():
    registers = catalogue().registers_of("SH10RT")
    rec = Recorder(register_names=lambda unit, wire, count: holding_names(registers, wire, count))

    rec.registers_written(1, 13049, 1, "modbus")  # documented 13050: the EMS mode
    rec.setting_written("ems_mode_selection", "control")

    assert rec.settings_writes == {
        ("ems_mode_selection", "modbus"): 1,
        ("ems_mode_selection", "control"): 1,
    }


def test_holding_names_cover_every_register_a_span_overlaps():
    registers = catalogue().registers_of("SH10RT")
    clock_words = holding_names(registers, 4999, 6)  # documented 5000..5005

    assert len(clock_words) == 6
    assert holding_names(registers, 4999, 1) == clock_words[:1]
    assert holding_names(registers, 60000, 5) == []


def record(msg: str, *args: object, **fields: object) -> logging.LogRecord:
    rec = logging.LogRecord("sungrow_sim.test", logging.INFO, __file__, 1, msg, args, None)
    for key, value in fields.items():
        setattr(rec, key, value)
    return rec


def test_json_lines_carry_time_level_logger_message_and_fields():
    line = JsonFormatter().format(record("closing %s", "now", peer="10.0.0.9", protocol="modbus"))

    entry = json.loads(line)
    assert entry["level"] == "info"
    assert entry["logger"] == "sungrow_sim.test"
    assert entry["message"] == "closing now"
    assert entry["peer"] == "10.0.0.9"
    assert entry["protocol"] == "modbus"
    assert entry["time"].endswith("+00:00")


def test_text_lines_append_fields_as_key_value():
    line = TextFormatter().format(record("closing %s", "now", fault="no-reply"))

    assert line.endswith("INFO sungrow_sim.test: closing now fault=no-reply")


def test_repeats_are_limited_per_window_and_the_suppressed_count_is_reported():
    clock = Ticker(0.0)
    limiter = RepeatFilter(burst=3, window_s=10.0, clock=clock)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(limiter)
    logger = logging.getLogger("sungrow_sim.test.repeats")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for n in range(50):
            logger.warning("closing connection: %s", n)
        logger.warning("another message")
        clock.now = 10.0
        logger.warning("closing connection: %s", "later")
    finally:
        logger.removeHandler(handler)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "closing connection: 0",
        "closing connection: 1",
        "closing connection: 2",
        "another message",
        "closing connection: later",
    ]
    assert lines[-1]["suppressed"] == 47
    assert "suppressed" not in lines[0]
