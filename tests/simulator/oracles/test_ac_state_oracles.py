"""AC side, states and identity judged by physics, the vendor documents and the real unit.

Every value is read from the register image a client reads and decoded with SunGather's
register file (tests/support/oracle.py), or, for the few registers SunGather lacks, with
the address, type and scale Sungrow's hybrid protocol V1.1.11 gives them. The
expectations are:

- physics: the phase voltages times the phase currents times the power factor make the
  active power; apparent, reactive power and power factor agree (S^2 = P^2 + Q^2,
  PF = P / S); an inverter warms with the power it converts, and is never colder than
  the air around it; nothing flows and no frequency is measured on a lost grid;
- the grid codes: phase voltages within 230 V +-10 % (EN 50160) and balanced within 2 %,
  the frequency within 50 Hz +-0.2 Hz (ENTSO-E's largest steady-state deviation) and
  moving slowly, as a synchronous grid's frequency does;
- the vendor documents (facts only): the device tables (type code, MPPTs), the output
  type (0 single phase, 1 three-phase four-wire), the running states of appendix 2 of the
  hybrid protocol, the power-flow bits of its appendix 3, the work states of the string
  protocol's appendices 1 and 2 as SunGather decodes them;
- the real SH8.0RT-20's dumps (shared/reference/sungrow-device): its nameplate words;
- the time zone's own rules (zoneinfo) for the clock and the fault time.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from sungrow_sim.config import InverterConfig
from sungrow_sim.faults import FaultSpec
from sungrow_sim.plant import ambient_c
from sungrow_sim.registers.quantities import running_bits
from support.insim import SCALE, FakeClockSim
from support.oracle import (
    RUNNING_BITS,
    Reg,
    mppt_voltage_address,
    reg,
    register_file,
    sungather_datarange,
)

NOON = datetime(2026, 6, 21, 10, 0, 17, tzinfo=UTC)  # Munich, near solar noon
NIGHT = datetime(2026, 6, 21, 22, 30, 41, tzinfo=UTC)  # Munich, well after sunset
ON, OFF = 0xAA, 0x55  # the documents' enable / disable words
BOOT, SHUTDOWN = 0xCF, 0xCE  # start/stop command words (hybrid protocol, 13000)

# Registers SunGather's file lacks, as the hybrid protocol V1.1.11 documents them.
DOCUMENTED = {
    "grid_frequency_hires": Reg("grid_frequency_hires", "input", 5242, "U16", 0.01, None),
    "battery_power_signed": Reg("battery_power_signed", "input", 5214, "S32", 1.0, None),
    "bdc_rated_power": Reg("bdc_rated_power", "input", 5628, "U16", 0.1, None),
    "active_power_limit_ratio": Reg(
        "active_power_limit_ratio", "holding", 13090, "U16", 0.1, None
    ),
    "active_power_limit_percent": Reg(
        "active_power_limit_percent", "holding", 31205, "U16", 0.1, None
    ),
}
# The string protocol's low-resolution frequency (5036, 0.1 Hz); SunGather names the
# 0.01 Hz register at 5148 the same for the models that have it.
GRID_FREQUENCY_LOW = Reg("grid_frequency", "input", 5036, "U16", 0.1, None)


class Unit(FakeClockSim):
    """One in-process inverter on a fake monotonic clock, read as a client reads it."""

    def __init__(self, model: str, start: datetime = NOON, zone: str = "UTC", **inverter):
        self.model = model
        config = InverterConfig(model=model, unit_id=1, serial="SIMQAC0001", **inverter)
        super().__init__([config], start, timezone=zone)  # no year of history: the present

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.wall * SCALE)

    def entry_words(self, entry: Reg) -> list[int]:
        return self.words(entry.table, entry.wire, entry.width)

    def entry(self, name: str, table: str = "input") -> Reg:
        return DOCUMENTED.get(name) or reg(self.model, name, table)

    def value(self, name: str, table: str = "input") -> float:
        entry = self.entry(name, table)
        return entry.value(self.entry_words(entry))

    def raw(self, name: str, table: str = "input") -> int:
        return self.entry_words(self.entry(name, table))[0]


@cache
def dump(name: str) -> dict:
    """One of the real SH8.0RT-20's register dumps."""
    return json.loads((register_file().parent / "sungrow-device" / name).read_text())


def dumped_raw(name: str, kind: str) -> int:
    (value,) = [
        v for v in dump("afternoon.json")["values"] if v["name"] == name and v["type"] == kind
    ]
    return value["raw"]


# -- identity ------------------------------------------------------------------------------


def test_the_nameplate_words_are_the_real_sh8rt20s():
    unit = Unit("SH8.0RT-20")
    for name, ours in (
        ("device_type_code", "device_type_code"),
        ("nominal_output_power", "nominal_active_power"),
        ("output_type", "output_type"),
    ):
        assert unit.raw(ours) == dumped_raw(name, "read"), name
    assert unit.raw("bdc_rated_power") == dump("afternoon.json")["rawWords"]["5628"]
    # Unlimited, the active power limit reads 100 % on both documented registers.
    for name in ("active_power_limit_ratio", "active_power_limit_percent"):
        assert unit.raw(name, "holding") == dumped_raw(name, "hold"), name
    assert unit.raw("power_limitation_setting", "holding") == dumped_raw(
        "power_limitation_setting", "hold"
    )


# (model, type code, nominal kW, phases, MPPTs) from the documents' device tables; the
# SH25T row is also the hybrid protocol's own example (4.2: 0xE28, 25.0 kW, 3P4L).
DEVICE_TABLE = [
    ("SH25T", 0xE28, 25.0, 3, 3),
    ("SH10RT", 0xE03, 10.0, 3, 2),
    ("SH5.0RS", 0xD0F, 5.0, 1, 2),
    ("SG30KTL", 0x27, 30.0, 3, 2),
    ("SG110CX", 0x2C06, 110.0, 3, 9),
]


def mppt_voltage(n: int) -> Reg:
    """MPPT n's voltage register as both protocols place it (0.1 V)."""
    return Reg(f"mppt_{n}_voltage", "input", mppt_voltage_address(n), "U16", 0.1, None)


@pytest.mark.parametrize(("model", "code", "kw", "phases", "mppts"), DEVICE_TABLE)
def test_the_nameplate_follows_the_vendor_device_tables(model, code, kw, phases, mppts):
    unit = Unit(model)
    unit.run(60)
    assert unit.raw("device_type_code") == code
    assert unit.value("nominal_active_power") == pytest.approx(kw)
    # Output type: 0 single phase, 1 three-phase four-wire, 2 three-phase three-wire.
    assert unit.raw("output_type") in ((0,) if phases == 1 else (1, 2))
    live = []
    for n in range(1, 13):
        entry = mppt_voltage(n)
        words = unit.sim.read(1, "input", entry.wire, 1)
        if isinstance(words, list) and 100 < entry.value(words) < 1500:
            live.append(n)
    assert live == list(range(1, mppts + 1)), "a clear noon drives every MPPT, and only those"


def test_a_string_inverter_serves_its_nominal_power_as_its_regulation_setpoint():
    unit = Unit("SG10RT")
    assert unit.value("active_power_regulation_setpoint") == 10_000
    assert unit.value("nominal_active_power") == 10.0


def test_the_installed_pv_power_is_the_configured_array():
    unit = Unit("SG10KTL-MT", array_kwp=12.34)
    assert unit.value("installed_pv_power", "holding") == pytest.approx(12.34)


def test_a_power_limit_reads_back_and_caps_the_served_output():
    unit = Unit("SG10RT")
    unit.run(60)
    assert unit.value("power_limitation_setting", "holding") == 100.0
    assert unit.value("total_active_power") > 6000, "a clear June noon"
    unit.write(5007, ON, 450)  # limitation on, 45.0 %
    unit.run(60)
    assert unit.value("power_limitation_setting", "holding") == pytest.approx(45.0)
    assert unit.value("total_active_power") <= 4500

    hybrid = Unit("SH10RT")
    hybrid.write(13089, ON, 300)  # limitation on, 30.0 %
    hybrid.run(60)
    for name in ("active_power_limit_ratio", "active_power_limit_percent"):
        assert hybrid.value(name, "holding") == pytest.approx(30.0), name
    assert hybrid.value("total_active_power") <= 3000
    hybrid.write(13089, OFF)  # limitation off: the whole nominal power is allowed again
    hybrid.run(60)
    assert hybrid.value("active_power_limit_percent", "holding") == 100.0
    assert hybrid.value("total_active_power") > 3000


# -- the AC side ---------------------------------------------------------------------------

AC_MODELS = ["SG10RT", "SH10RT", "SG5.0RS", "SH5.0RS"]


def phases(unit: Unit) -> list[tuple[float, float]]:
    """(voltage, current) of phases a, b and c (5019-5021; 5022-5024 or 13031-13033)."""
    first = 13031 if unit.model.startswith("SH") else 5022
    out = []
    for i in range(3):
        voltage = Reg("phase_voltage", "input", 5019 + i, "U16", 0.1, None)
        current = Reg("phase_current", "input", first + i, "S16", 0.1, None)
        out.append(
            (
                voltage.value(unit.entry_words(voltage)),
                abs(current.value(unit.entry_words(current))),
            )
        )
    return out


@pytest.mark.parametrize("model", AC_MODELS)
def test_phase_voltages_times_currents_make_the_active_power(model):
    unit = Unit(model, battery_kwh=10.0) if model.startswith("SH") else Unit(model)
    if model.startswith("SH"):
        unit.sim.set_load(None, 500)
    single = unit.value("output_type") == 0
    for _ in range(20):
        unit.run(60)
        vi = phases(unit)
        live = vi[:1] if single else vi
        for voltage, _ in live:
            assert 207.0 <= voltage <= 253.0, vi  # 230 V +-10 %
        volts = [v for v, _ in live]
        assert max(volts) - min(volts) <= 0.02 * min(volts), vi
        for voltage, current in vi[len(live) :]:
            assert voltage == 0 and current == 0, f"a single-phase unit has no phase b/c: {vi}"
        power = unit.value("total_active_power")
        pf = unit.value("power_factor")
        assert power > 3000
        tolerance = sum(v * 0.05 for v, _ in live) + 2  # currents in 0.1 A
        assert sum(v * i for v, i in vi) * abs(pf) == pytest.approx(power, abs=tolerance)
        reactive = unit.value("total_reactive_power")
        if model.startswith("SG"):
            apparent = unit.value("total_apparent_power")
            assert sum(v * i for v, i in vi) == pytest.approx(apparent, abs=tolerance)
            assert math.hypot(power, reactive) == pytest.approx(apparent, abs=2)
            assert pf == pytest.approx(power / apparent, abs=0.002)
        else:
            assert abs(pf) == pytest.approx(1.0) and abs(reactive) <= 2


@pytest.mark.parametrize("model", ["SG10RT", "SH10RT"])
def test_nothing_flows_on_a_lost_grid_and_no_frequency_is_measured(model):
    unit = Unit(model, battery_kwh=10.0) if model.startswith("SH") else Unit(model)
    unit.run(60)
    assert unit.value("grid_frequency") > 49
    unit.sim.inject(FaultSpec(kind="grid-loss"))
    unit.run(120)
    assert phases(unit) == [(0.0, 0.0)] * 3
    assert unit.value("grid_frequency") == 0
    assert GRID_FREQUENCY_LOW.value(unit.entry_words(GRID_FREQUENCY_LOW)) == 0


@pytest.mark.parametrize(
    ("model", "hires"), [("SG10RT", "grid_frequency"), ("SH10RT", "grid_frequency_hires")]
)
def test_grid_frequency_stays_in_band_moves_slowly_and_both_resolutions_agree(model, hires):
    unit = Unit(model)
    seen: list[float] = []
    for _ in range(150):  # 25 minutes, every 10 s
        unit.run(10, step_s=10)
        fine = unit.value(hires)
        coarse = GRID_FREQUENCY_LOW.value(unit.entry_words(GRID_FREQUENCY_LOW))
        assert 49.8 <= fine <= 50.2, fine  # ENTSO-E: at most 200 mHz off in steady state
        for voltage, _ in phases(unit):
            assert 207.0 <= voltage <= 253.0, voltage  # and the voltage within EN 50160's
        assert abs(coarse - fine) <= 0.05 + 1e-9, (coarse, fine)  # only the resolution differs
        if seen:
            # A synchronous grid's frequency drifts by mHz per second: one 0.01 Hz step at most.
            assert abs(fine - seen[-1]) <= 0.01 + 1e-9, (seen[-1], fine)
        seen.append(fine)
    assert len(set(seen)) >= 3, "a live grid's frequency is never constant for 25 minutes"


# -- power flow bits (hybrid protocol, appendix 3) ------------------------------------------


def flows_named_by_the_served_powers(unit: Unit) -> int:
    """The 13001 bits a client expects from the powers the unit serves alongside."""
    battery = unit.value("battery_power_signed")  # > 0 discharging, as on the real unit
    grid = unit.value("export_power_hybrid")  # > 0 feeding in
    expected = RUNNING_BITS["pv"] if unit.value("total_dc_power") > 0 else 0
    expected |= RUNNING_BITS["charging"] if battery < 0 else 0
    expected |= RUNNING_BITS["discharging"] if battery > 0 else 0
    expected |= RUNNING_BITS["load"] if unit.value("load_power_hybrid") > 0 else 0
    expected |= RUNNING_BITS["feed_in"] if grid > 0 else 0
    expected |= RUNNING_BITS["import"] if grid < 0 else 0
    return expected


SCENES = {
    # name: (start, load W, battery W (> 0 charging, None: the unit decides), grid lost)
    "noon-charging": (NOON, 600, 3000, False),
    "noon-discharging": (NOON, 600, -3000, False),
    "night-importing": (NIGHT, 2000, 0, False),
    "night-charging-from-grid": (NIGHT, 0, 3000, False),
    "night-exporting-battery": (NIGHT, 500, -4000, False),
    "night-islanded-nothing": (NIGHT, 0, 0, True),
    "night-islanded-battery": (NIGHT, 1500, None, True),
}


@pytest.mark.parametrize("scene", SCENES)
def test_power_flow_bits_name_the_served_power_signs(scene):
    start, load, battery, islanded = SCENES[scene]
    unit = Unit("SH10RT", start, battery_kwh=10.0)
    unit.sim.set_load(None, load)
    unit.sim.set_battery(None, soc_pct=50.0, power_w=battery)
    if islanded:
        unit.sim.inject(FaultSpec(kind="grid-loss"))
    unit.run(120)
    bits = int(unit.value("running_state"))
    assert bits & 0x3F == flows_named_by_the_served_powers(unit), f"{scene}: {bits:#x}"
    if start is NIGHT:
        assert not bits & RUNNING_BITS["pv"], "no PV at night"


@pytest.mark.parametrize("watts", [1, 2, 250])
def test_a_single_watt_is_a_flow_and_zero_is_none(watts):
    """Bit meanings of appendix 3 at their edges: any power sets its bit, none clears it."""
    bits = RUNNING_BITS
    assert running_bits(0, 0, 0, 0) == 0
    assert running_bits(watts, 0, 0, 0) == bits["pv"]
    assert running_bits(0, watts, 0, 0) == bits["charging"]
    assert running_bits(0, -watts, 0, 0) == bits["discharging"]
    assert running_bits(0, 0, watts, 0) == bits["load"]
    assert running_bits(0, 0, 0, watts) == bits["feed_in"]
    assert running_bits(0, 0, 0, -watts) == bits["import"]


# -- running and work states ----------------------------------------------------------------


def system_state(unit: Unit) -> str:
    raw = unit.raw("system_state")
    if raw == 0x4001:  # hybrid protocol appendix 2 (SunGather does not list it)
        return "Emergency Charging"
    return sungather_datarange("system_state").get(raw, hex(raw))


def test_hybrid_running_states_follow_the_documented_codes():
    unit = Unit("SH10RT", battery_kwh=10.0)
    unit.sim.set_load(None, 500)
    unit.sim.set_battery(None, soc_pct=50.0)
    unit.run(60)
    assert system_state(unit) == "Run"
    # The real SH8.0RT-20 shows the boot word at 5006 too while it runs (its dumps).
    assert dumped_raw("start_stop", "hold") == BOOT
    assert unit.raw("start_stop", "holding") == unit.raw("start_stop_hybrid", "holding") == BOOT
    assert sungather_datarange("grid_state")[unit.raw("grid_state")] == "On-grid"

    unit.write(13000, SHUTDOWN)
    unit.run(60)
    assert system_state(unit) == "Stop"
    assert unit.raw("start_stop", "holding") == unit.raw("start_stop_hybrid", "holding")
    assert unit.raw("start_stop_hybrid", "holding") == SHUTDOWN
    assert unit.value("total_active_power") == 0
    unit.sim.inject(FaultSpec(kind="grid-loss"))
    unit.run(60)
    assert system_state(unit) == "Stop", "a stopped unit does not run off-grid"
    unit.sim.clear_faults()
    unit.write(13000, BOOT)
    unit.run(60)
    assert system_state(unit) == "Run"

    unit.write(13050, 2, ON, 3000)  # compulsory mode, charge at 3000 W
    unit.run(60)
    assert system_state(unit) == "Forced Run"
    assert unit.value("battery_power_signed") == pytest.approx(-3000, abs=5)
    unit.write(13050, 3)  # external EMS
    unit.run(60)
    assert system_state(unit) == "EMS Run"
    unit.write(13050, 0)

    unit.sim.inject(FaultSpec(kind="grid-loss"))
    unit.run(60)
    assert system_state(unit) == "Off-grid Run"
    assert sungather_datarange("grid_state")[unit.raw("grid_state")] == "Off-grid"
    unit.sim.clear_faults()
    unit.run(60)

    unit.sim.inject(FaultSpec(kind="inverter-fault"))
    unit.run(60)
    assert system_state(unit) == "Fault"
    unit.sim.inject(FaultSpec(kind="grid-loss"))
    unit.run(60)
    assert system_state(unit) == "Fault", "a faulted unit does not run off-grid"


def test_below_the_backup_reserve_a_hybrid_charges_in_emergency():
    unit = Unit("SH10RT", NIGHT, battery_kwh=10.0)
    unit.sim.set_load(None, 500)
    unit.sim.set_battery(None, soc_pct=12.0)
    unit.write(13100, 40)  # reserved SOC for backup: 40 %
    unit.run(60)
    assert system_state(unit) == "Emergency Charging"
    assert unit.value("battery_power_signed") < 0, "emergency charging charges"


def test_a_hybrid_held_in_standby_shows_standby():
    unit = Unit("SH10RT", NIGHT, battery_kwh=10.0)
    unit.sim.inject(FaultSpec(kind="night-standby"))
    unit.run(60)
    assert system_state(unit) == "Standby"


def test_string_work_states_and_the_fault_time_follow_the_documents():
    zone = ZoneInfo("Europe/Berlin")
    unit = Unit("SG10RT", NOON, zone="Europe/Berlin")
    first, second = sungather_datarange("work_state_1"), sungather_datarange("work_state_2")

    def states() -> tuple[str, str]:
        return first[unit.raw("work_state_1")], second[int(unit.value("work_state_2"))]

    unit.run(60)
    assert states() == ("Run", "Run")
    assert unit.raw("start_stop", "holding") == BOOT
    unit.write(5006, SHUTDOWN)
    unit.run(60)
    assert states() in (("Stop", "Stop"), ("Key Stop", "Key Stop"))
    assert unit.raw("start_stop", "holding") == SHUTDOWN
    assert unit.value("total_active_power") == 0
    unit.write(5006, BOOT)
    unit.run(60)
    assert states() == ("Run", "Run")

    unit.run(17)  # a fault at a minute and seconds of its own
    at = unit.now()
    unit.sim.inject(FaultSpec(kind="inverter-fault"))
    unit.run(120)
    assert states() == ("Fault", "Fault")
    local = at.astimezone(zone)
    shown = tuple(
        int(unit.value(f"alarm_time_{part}"))
        for part in ("year", "month", "day", "hour", "minute")
    )
    assert shown == (local.year, local.month, local.day, local.hour, local.minute)
    assert unit.value("alarm_code_1") == 38  # the documented default fault code
    unit.sim.clear_faults()

    night = Unit("SG10RT", NIGHT)
    night.sim.inject(FaultSpec(kind="night-standby"))
    night.run(60)
    assert first[night.raw("work_state_1")] == "Standby"
    assert second[int(night.value("work_state_2"))] == "Standby"


# -- temperatures --------------------------------------------------------------------------


def test_the_inverter_warms_with_the_power_it_converts():
    temperatures = []
    for watts in (0, 3000, 9000):
        unit = Unit("SH10RT", battery_kwh=10.0)
        unit.sim.set_power(None, watts)
        unit.run(60)
        temperatures.append(unit.value("internal_temperature"))
    outside = ambient_c(NOON.replace(tzinfo=None))
    assert temperatures == sorted(temperatures) and temperatures[0] < temperatures[-1]
    assert outside <= temperatures[0], "an idle inverter is not colder than the air"
    assert temperatures[-1] - outside <= 50, "9 kW at ~97 % heats a heat sink by tens of K"
    assert all(-25 <= t <= 85 for t in temperatures)

    # Charging from the grid at night converts power too: it warms the inverter as well.
    idle = Unit("SH10RT", NIGHT, battery_kwh=10.0)
    charging = Unit("SH10RT", NIGHT, battery_kwh=10.0)
    for unit, watts in ((idle, 0), (charging, 4000)):
        unit.sim.set_load(None, 0)
        unit.sim.set_battery(None, soc_pct=40.0, power_w=watts)
        unit.run(60)
    assert charging.value("internal_temperature") >= idle.value("internal_temperature") + 5


# -- the clock -----------------------------------------------------------------------------


def test_clock_registers_show_local_time_to_the_second_over_a_dst_change():
    zone = "Europe/Berlin"
    start = datetime(2026, 3, 29, 0, 58, 37, tzinfo=UTC)  # 01:58:37 CET, then 03:xx CEST
    unit = Unit("SH10RT", start, zone=zone)
    for _ in range(6):
        local = unit.now().astimezone(ZoneInfo(zone))
        fields = tuple(
            int(unit.value(name, "holding"))
            for name in ("year", "month", "day", "hour", "minute", "second")
        )
        assert fields == (
            local.year, local.month, local.day, local.hour, local.minute, local.second
        )  # fmt: skip
        unit.run(37, step_s=37)
    assert unit.value("hour", "holding") == 3, "past 01:00 UTC the zone is on summer time"


# -- a string inverter without a meter ------------------------------------------------------


def test_a_string_inverter_without_a_meter_knows_nothing_of_the_grid_point():
    """Without a meter, meter power, load and the grid-point energies stay zero.

    They come from the meter (string protocol 5083-5104, valid for inverters with one),
    whatever the inverter produces.
    """
    unit = Unit("SG10KTL-MT", meter=False)
    # Counters from a time with a meter (a restored state) are not shown without one.
    counters = unit.sim.inverters[1].plant.counters
    for period in ("daily", "total"):
        for flow in ("export", "import", "direct"):
            assert hasattr(counters, f"{period}_{flow}_kwh")
            setattr(counters, f"{period}_{flow}_kwh", 12.3)
    names = (
        "meter_power",
        "load_power",
        "export_power",
        "daily_export_energy",
        "total_export_energy",
        "daily_import_energy",
        "total_import_energy",
        "daily_direct_energy_consumption",
        "total_direct_energy_consumption",
    )
    produced = 0.0
    for _ in range(60):
        unit.run(60)
        produced += unit.value("total_active_power") / 60 / 1000
        assert {n: unit.value(n) for n in names} == dict.fromkeys(names, 0.0)
    assert produced > 5, "an hour of a clear June noon"

    metered = Unit("SG10KTL-MT")
    metered.sim.set_load(None, 1000)
    export0 = metered.value("total_export_energy")
    metered.run(3600)
    assert metered.value("meter_power") < -5000, "with a meter, the export shows (< 0: selling)"
    assert metered.value("total_export_energy") - export0 > 5


def test_temperatures_and_voltages_are_served_to_the_tenth_as_on_the_real_unit():
    """The registers resolve 0.1 degC and 0.1 V, and the real SH8.0RT-20 uses it.

    Its dumps show an inside temperature of 41.9 / 47.9 degC and phase voltages of
    236.7 / 237.6 / 235.1 V.
    """
    real = [
        v["raw"]
        for name in ("nachts.json", "morning.json", "afternoon.json")
        for v in dump(name)["values"]
        if v["name"] in ("inside_temperature", "phase_a_voltage", "phase_b_voltage")
    ]
    assert any(raw % 10 for raw in real)
    unit = Unit("SH10RT", battery_kwh=10.0)
    temperatures: list[int] = []
    volts: list[int] = []
    for watts in range(0, 10_000, 700):
        unit.sim.set_power(None, watts)
        unit.run(60)
        temperatures.append(unit.raw("internal_temperature"))
        volts += [unit.raw(f"phase_{p}_voltage") for p in "abc"]
    for words in (temperatures, volts):
        assert sum(1 for w in words if w % 10) >= len(words) // 3, f"whole units only: {words}"
