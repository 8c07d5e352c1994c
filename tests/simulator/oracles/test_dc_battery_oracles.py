"""The DC side and the battery judged by physics, the vendor's documents and the real unit.

Values are read from the register image a client reads and decoded with SunGather's
register file (tests/support/oracle.py), or, for models SunGather does not list, at the
addresses, types and scales of Sungrow's protocol documents. The expectations:

- V x I = P: each MPPT's voltage times its current, summed, is the total DC power (5017);
  the battery's voltage (13020) times its current (5631) is its power (5214).
- Kirchhoff: the strings of an MPPT carry its current between them; the strings per MPPT
  are those of the documents' device tables (string inverters V1.1.37).
- Photovoltaics: a crystalline module's MPP voltage falls by about 0.3-0.5 % per kelvin
  and rises (slowly) with irradiance; at standard test conditions it is near the model's
  rated PV input voltage (600 V for the SG RT series, user manual), inside its MPP range
  (SG RT 160-1000 V; SH10RT 200-950 V; SH T series 150-950 V, user manuals).
- The real SH8.0RT-20 (shared/reference/sungrow-device dumps): battery current (5631,
  13021) and power (5214) are negative while charging, positive while discharging, with
  13001's charging/discharging bits; 13022 is the magnitude; MPPT 3 of a two-MPPT hybrid
  reads 0; its string ran at 543 V on a cool morning and 509 V on a hot afternoon.
- A battery's terminal voltage rises with its state of charge, sits above the resting
  voltage while charging and below it while discharging (internal resistance).
- Self-consumption (13029) is the share of the day's PV energy not fed into the grid;
  CO2 saved (13015) is proportional to the energy produced, at a grid emission factor.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from sungrow_sim.config import InverterConfig
from sungrow_sim.registers import catalogue
from sungrow_sim.registers import quantities as quantities_module
from support.insim import FakeClockSim
from support.oracle import RUNNING_BITS, Reg, mppt_voltage_address, read_value, reg

NOON = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)  # Munich (the default site), near solar noon
MIDNIGHT = datetime(2026, 6, 21, 23, 0, tzinfo=UTC)
# The real SH8.0RT-20's dumps (morning.json, afternoon.json): instants and MPPT 1 voltage.
REAL_MORNING = (datetime(2026, 5, 22, 6, 1, 22, tzinfo=UTC), 543.3)
REAL_AFTERNOON = (datetime(2026, 5, 22, 12, 58, 38, tzinfo=UTC), 508.6)

# Strings per MPPT from the device table of Sungrow's string-inverter protocol document.
STRINGS_PER_MPPT = {
    "SG30KTL": (4, 4),
    "SG30KTL-M": (3, 3, 2),
    "SG10RT": (2, 1),
    "SG30CX": (2, 2, 2),
    "SG250HX": (2,) * 12,
}


def doc_reg(address: int, datatype: str = "U16", scale: float = 0.1) -> Reg:
    """A register at its documented address (for models SunGather does not list)."""
    return Reg(f"doc_{address}", "input", address, datatype, scale, None)


def mppt_regs(n: int) -> tuple[Reg, Reg]:
    """MPPT n's voltage and current as the protocol documents place them."""
    voltage = mppt_voltage_address(n)
    return doc_reg(voltage), doc_reg(voltage + 1)


class Unit(FakeClockSim):
    """One in-process simulator on a fake monotonic clock, read through its register image."""

    def __init__(
        self,
        model: str,
        start: datetime,
        battery_kwh: float = 10.0,
        commissioned: datetime | None = None,
    ) -> None:
        self.model = model
        config = InverterConfig(model=model, serial="SIMDCBAT01", battery_kwh=battery_kwh)
        super().__init__([config], start, commissioned=commissioned)  # no history unless asked
        self.run(120)

    def value(self, name: str, table: str = "input") -> float:
        return read_value(self.words, self.model, name, table)

    def mppts(self) -> list[tuple[float, float]]:
        """(voltage, current) of each of the model's MPPTs."""
        count = catalogue().model(self.model).mppt_count
        return [(self.at(v), self.at(i)) for v, i in map(mppt_regs, range(1, count + 1))]

    def battery(self) -> tuple[float, float, float]:
        """Battery voltage (13020), current (5631) and power (5214), signed as the unit does."""
        return (
            self.at(doc_reg(13020)),
            self.at(doc_reg(5631, "S16")),
            self.at(doc_reg(5214, "S32", 1)),
        )


def dc_tolerance(mppts: list[tuple[float, float]]) -> float:
    """How far sum(V x I) may be from the DC power: 0.05 V and 0.05 A of rounding each."""
    return sum(0.05 * v + 0.05 * i + 0.0025 for v, i in mppts) + 1


@pytest.mark.parametrize(
    "model", ["SH10RT", "SH5K-20", "SH8.0RS", "SH15T", "SG10RT", "SG30KTL-M", "SG250HX"]
)
def test_mppt_voltage_times_current_sums_to_the_dc_power(model):
    unit = Unit(model, NOON)
    mppts = unit.mppts()
    dc = unit.at(doc_reg(5017, "U32", 1))
    assert dc > 0.3 * catalogue().model(model).nominal_power_w, "a clear June noon"
    for n, (voltage, current) in enumerate(mppts, 1):
        assert voltage > 0 and current > 0, f"MPPT {n} of {model} is lit at noon"
    assert sum(v * i for v, i in mppts) == pytest.approx(dc, abs=dc_tolerance(mppts))


def test_an_mppt_the_hybrid_lacks_reads_zero_as_the_real_unit():
    """A two-MPPT SH reads 0 V and 0 A at MPPT 3 (5015/5016), day and night."""
    for when in (NOON, MIDNIGHT):
        unit = Unit("SH10RT", when)
        voltage, current = (unit.at(r) for r in mppt_regs(3))
        assert (voltage, current) == (0, 0)


@pytest.mark.parametrize("model", ["SH10RT", "SG10RT", "SG250HX"])
def test_at_night_the_dc_side_is_dead(model):
    """No light, no PV voltage or current; a string inverter's DC bus has no source either."""
    unit = Unit(model, MIDNIGHT)
    assert unit.at(doc_reg(5017, "U32", 1)) == 0
    assert all((v, i) == (0, 0) for v, i in unit.mppts())
    if model.startswith("SG"):
        assert unit.value("bus_voltage") == 0


@pytest.mark.parametrize("model", sorted(STRINGS_PER_MPPT))
def test_string_currents_sum_to_their_mppt_current(model):
    unit = Unit(model, NOON)
    mppts = unit.mppts()
    first = 1
    for n, strings in enumerate(STRINGS_PER_MPPT[model], 1):
        currents = [unit.value(f"string_{s}_current") for s in range(first, first + strings)]
        first += strings
        mppt_current = mppts[n - 1][1]
        assert all(c > 0 for c in currents), f"{model} MPPT {n}: every string carries current"
        assert sum(currents) == pytest.approx(mppt_current, abs=0.05 + 0.005 * strings), (
            f"{model} MPPT {n}: strings {currents} vs MPPT {mppt_current} A"
        )


@pytest.mark.parametrize("model", ["SG10RT", "SG30KTL"])
def test_after_sunset_the_lit_dc_side_goes_dark(model):
    """A unit that ran at noon reads 0 V and 0 A on every MPPT and string at midnight."""
    unit = Unit(model, NOON)
    strings = sum(STRINGS_PER_MPPT.get(model, (2, 1)))
    assert all(unit.value(f"string_{s}_current") > 0 for s in range(1, strings + 1))
    unit.sim.set_clock(MIDNIGHT)
    unit.run(120)
    assert all((v, i) == (0, 0) for v, i in unit.mppts())
    assert all(unit.value(f"string_{s}_current") == 0 for s in range(1, strings + 1))
    assert unit.value("bus_voltage") == 0


def test_ac_power_is_the_dc_power_less_the_conversion_losses():
    """A string inverter's AC output (5031) is its DC input (5017) less the losses.

    The efficiency is between 90 and 99 %: never more than it takes in, never far less.
    """
    unit = Unit("SG30KTL", NOON)
    ac, dc = unit.at(doc_reg(5031, "U32", 1)), unit.at(doc_reg(5017, "U32", 1))
    assert 0.9 * dc <= ac <= 0.99 * dc


@pytest.mark.parametrize("power_w", [None, 1])
def test_apparent_reactive_active_power_and_power_factor_agree(power_w):
    """S^2 = P^2 + Q^2 and PF = P / S (5009, 5031, 5033, 5035), at noon and at 1 W.

    At 1 W of active power (set-power 1) a single var would turn the power factor to 0.7.
    """
    unit = Unit("SG30KTL", NOON)
    unit.sim.set_power(None, power_w)
    p = unit.at(doc_reg(5031, "U32", 1))
    s = unit.at(doc_reg(5009, "U32", 1))
    q = unit.at(doc_reg(5033, "S32", 1))
    pf = unit.at(doc_reg(5035, "S16", 0.001))
    assert p > 0 and (power_w is None or p == power_w)
    assert s == pytest.approx(math.hypot(p, q), abs=1)
    assert pf == pytest.approx(p / math.hypot(p, q), abs=0.001)
    assert -1 <= pf <= 1


def test_a_hybrid_charging_from_the_grid_draws_active_power_at_unity_power_factor():
    """At night, forced charging takes active power from the grid (13034 < 0).

    All of it is active power, so |PF| = 1 (5035), not 0.
    """
    unit = Unit("SH10RT", MIDNIGHT)
    unit.sim.set_load(None, 800)
    unit.sim.set_battery(None, soc_pct=50.0, power_w=4000)
    assert unit.at(doc_reg(13034, "S32", 1)) == pytest.approx(-4000, abs=50)
    assert abs(unit.at(doc_reg(5035, "S16", 0.001))) == 1


@pytest.mark.parametrize("model", ["SH10RT", "SH5.0RS"])
@pytest.mark.parametrize(("when", "load_w", "soc"), [(MIDNIGHT, 2000, 50.0), (NOON, 300, 100.0)])
def test_meter_power_is_the_grid_exchange_and_its_phases_add_up(model, when, load_w, soc):
    """5601 > 0 buying, < 0 selling (the hybrid document); its phases add up to it.

    At night the house and the forced charge are bought, at noon the surplus is sold;
    5603 + 5605 + 5607 = 5601, and a single-phase system's meter has nothing on phases B
    and C.
    """
    unit = Unit(model, when)
    unit.sim.set_load(None, load_w)
    unit.sim.set_battery(None, soc_pct=soc, power_w=1000 if when == MIDNIGHT else None)
    unit.run(60)
    meter = unit.at(doc_reg(5601, "S32", 1))
    ac = unit.at(doc_reg(13034, "S32", 1))  # the inverter's AC port, > 0 delivering
    assert meter == pytest.approx(load_w - ac, abs=2), "the grid covers what the inverter does not"
    assert (meter > 0) == (when == MIDNIGHT)
    phases = [unit.at(doc_reg(a, "S32", 1)) for a in (5603, 5605, 5607)]
    assert sum(phases) == pytest.approx(meter, abs=2)
    if catalogue().model(model).phases == 1:
        assert phases[1:] == [0, 0]


def test_the_bus_voltage_is_above_the_pv_voltage_and_the_grid_peak():
    """The DC link of a transformerless 3-phase string inverter: above PV and grid.

    It sits above the MPPT voltage (it boosts into it) and above the 400 V grid's line
    peak (565 V).
    """
    unit = Unit("SG10RT", NOON)
    bus = unit.value("bus_voltage")
    assert bus > max(v for v, _ in unit.mppts())
    assert 400 * math.sqrt(2) < bus < 1000


def test_a_single_phase_dc_link_stays_above_the_highest_grid_peak():
    """Even at a hot dusk (low MPP voltage) the DC link can feed a 253 V grid.

    A transformerless inverter needs its DC link above the grid's peak to push current
    into it: 230 V + 10 % (EN 50160) peaks at 358 V.
    """
    q: dict[str, float] = {}
    spec = catalogue().model("SG5.0RS")
    quantities_module._add_dc(q, spec, (300.0, 200.0), 150.0, 45.0, 2)
    assert q["mppt_1_voltage"] < 253 * math.sqrt(2), "the PV side alone is below the peak"
    assert q["bus_voltage_v"] > 253 * math.sqrt(2)


# -- MPPT voltage physics --------------------------------------------------------------------

RATED_INPUT_V = {"SG10RT": 600.0, "SG8.0RT": 600.0}  # SG RT user manual: nominal input
# MPPT operating ranges from the user manuals (SG RT; SH5.0-10RT: 200 V but the SH5.0RT's
# 150 V; SH T series).
MPP_RANGE_V = {
    "SG10RT": (160.0, 1000.0),
    "SH10RT": (200.0, 950.0),
    "SH15T": (150.0, 950.0),
    "SH10T": (150.0, 950.0),
}


def mpp_voltage(model: str, irradiance: float, cell_c: float) -> float:
    return quantities_module._mppt_voltage(catalogue().model(model), irradiance, cell_c)


@pytest.mark.parametrize("model", ["SG10RT", "SH10RT", "SG5.0RS", "SH5.0RS"])
def test_mpp_voltage_falls_with_temperature_by_a_silicon_coefficient(model):
    for irradiance in (300.0, 800.0):
        cold, hot = mpp_voltage(model, irradiance, 15.0), mpp_voltage(model, irradiance, 45.0)
        per_kelvin = (hot - cold) / 30 / mpp_voltage(model, irradiance, 25.0)
        assert -0.005 <= per_kelvin <= -0.0025, f"{model}: {per_kelvin:.4%}/K"


@pytest.mark.parametrize("model", ["SG10RT", "SH10RT", "SG5.0RS", "SH5.0RS"])
def test_mpp_voltage_rises_slowly_with_irradiance(model):
    """Vmp grows with the log of irradiance: a few % from 200 to 1000 W/m2, never down."""
    voltages = [mpp_voltage(model, g, 25.0) for g in (200.0, 400.0, 700.0, 1000.0)]
    assert voltages == sorted(voltages) and len(set(voltages)) == len(voltages)
    assert 1.02 <= voltages[-1] / voltages[0] <= 1.15


@pytest.mark.parametrize("model", sorted(RATED_INPUT_V))
def test_mpp_voltage_at_standard_conditions_is_near_the_rated_input_voltage(model):
    assert mpp_voltage(model, 1000.0, 25.0) == pytest.approx(RATED_INPUT_V[model], rel=0.1)


@pytest.mark.parametrize("model", sorted(MPP_RANGE_V))
def test_served_mppt_voltages_stay_inside_the_documented_mpp_range(model):
    low, high = MPP_RANGE_V[model]
    for when in (NOON, datetime(2026, 1, 15, 8, 30, tzinfo=UTC), datetime(2026, 7, 20, 17, 0)):
        unit = Unit(model, when.replace(tzinfo=UTC))
        for voltage, current in unit.mppts():
            if current > 0:
                assert low <= voltage <= high, f"{model} at {when}: {voltage} V"


def test_mppt_voltage_is_near_the_real_unit_and_lower_on_the_hot_afternoon():
    """The simulated SH8.0RT-20 at the real dumps' instants, against the real string.

    Within 10 % of the real string's voltage, and, as there, lower in the hot afternoon
    than in the cool morning.
    """
    seen = []
    for when, real in (REAL_MORNING, REAL_AFTERNOON):
        unit = Unit("SH8.0RT-20", when)
        voltage = max(v for v, _ in unit.mppts())
        assert voltage == pytest.approx(real, rel=0.1), f"at {when:%H:%M} UTC"
        seen.append(voltage)
    assert seen[1] < seen[0]


# -- battery -----------------------------------------------------------------------------------


def forced(model: str, soc: float, power_w: float, when: datetime = NOON) -> Unit:
    unit = Unit(model, when)
    unit.sim.set_load(None, 500)
    unit.sim.set_battery(None, soc_pct=soc, power_w=power_w)
    return unit


@pytest.mark.parametrize("model", ["SH10RT", "SH5.0RS", "SH5K-20", "SH8.0RT-20"])
@pytest.mark.parametrize("power_w", [3000.0, -2500.0])
def test_battery_voltage_times_current_is_its_power_signed_as_the_real_unit(model, power_w):
    unit = forced(model, 60.0, power_w)
    voltage, current, power = unit.battery()
    bits = int(unit.at(doc_reg(13001, "U16", 1)))
    # The real unit: charging shows the charging bit and negative 5214/5631, discharging
    # the discharging bit and positive ones; 13022 is the magnitude.
    assert power == -power_w
    if power_w > 0:
        assert bits & RUNNING_BITS["charging"] and not bits & RUNNING_BITS["discharging"]
        assert current < 0
    else:
        assert bits & RUNNING_BITS["discharging"] and not bits & RUNNING_BITS["charging"]
        assert current > 0
    assert unit.at(doc_reg(13022, "U16", 1)) == abs(power_w)
    assert voltage * current == pytest.approx(power, abs=0.05 * voltage + 0.05 * abs(current))
    assert unit.at(doc_reg(13021, "S16")) == current, "13021 reads as 5631 (the real unit)"


def test_the_bms_current_register_is_the_current_magnitude():
    """SH5K-20's BMS current (13109, 1 A) is |P| / V of the battery, whichever way it flows."""
    for power_w in (2000.0, -1500.0):
        unit = forced("SH5K-20", 55.0, power_w)
        voltage, _, _ = unit.battery()
        expected = abs(power_w) / voltage
        assert unit.at(doc_reg(13109, "U16", 1)) == pytest.approx(expected, abs=0.51)


@pytest.mark.parametrize(
    ("model", "low", "high"),
    # SH T series user manual: battery voltage 100-700 V; a 48 V-class pack of 16 LFP cells
    # works between 2.5 and 3.65 V a cell.
    [("SH10RT", 100.0, 700.0), ("SH15T", 100.0, 700.0), ("SH5.0RS", 40.0, 58.4)],
)
def test_battery_rest_voltage_is_in_the_pack_range_and_rises_with_soc(model, low, high):
    rest = []
    for soc in (5.0, 30.0, 60.0, 95.0):
        unit = forced(model, soc, 0.0)
        assert unit.at(doc_reg(13023)) == pytest.approx(soc, abs=0.05), "SOC (13023, 0.1 %)"
        voltage, current, power = unit.battery()
        assert current == power == 0
        assert low <= voltage <= high
        rest.append(voltage)
    assert rest == sorted(rest) and rest[0] < rest[-1]


@pytest.mark.parametrize("model", ["SH10RT", "SH5.0RS"])
def test_charging_lifts_and_discharging_sags_the_terminal_voltage(model):
    """Over the internal resistance: V = Voc + R I, R a small positive resistance."""
    rest, _, _ = forced(model, 50.0, 0.0).battery()
    charging, charge_a, _ = forced(model, 50.0, 3000.0).battery()
    discharging, discharge_a, _ = forced(model, 50.0, -3000.0).battery()
    assert discharging < rest < charging
    for voltage, current in ((charging, charge_a), (discharging, discharge_a)):
        ohms = (rest - voltage) / current  # current < 0 charging: both give R > 0
        assert 0 < ohms < 0.05 * rest / abs(current), "drop below 5 % of the voltage"


def test_a_string_inverter_has_no_battery_voltage_or_current():
    """An SG answers 13020-13022 and 5631 with exception 2 (illegal address): no battery."""
    unit = Unit("SG10RT", NOON)
    assert unit.value("total_dc_power") > 0
    with pytest.raises(KeyError):
        reg("SG10RT", "battery_voltage")  # SunGather lists none for it either
    assert unit.sim.read(1, "input", 13019, 3) == 2
    assert unit.sim.read(1, "input", 5630, 1) == 2


def test_battery_health_capacity_and_temperature_are_physical():
    unit = forced("SH10RT", 50.0, 5000.0)
    idle = forced("SH10RT", 50.0, 0.0)
    assert 0 < unit.at(doc_reg(13024)) <= 100, "state of health (13024, 0.1 %)"
    assert unit.at(doc_reg(13039)) == 10.0, "the configured 10 kWh (13039, 0.1 kWh)"
    assert unit.at(doc_reg(5639, scale=0.01)) == 10.0, "the same in 0.01 kWh (5639)"
    unit.run(3 * 3600)
    idle.run(3 * 3600)
    warm, cool = (u.at(doc_reg(13025, "S16")) for u in (unit, idle))
    assert -20 < cool < warm < 60, "a pack worked at 0.5 C for 3 h is warmer than an idle one"


# -- savings -----------------------------------------------------------------------------------


def test_self_consumption_is_the_share_of_pv_energy_not_exported():
    """13029 against the day's served PV (13002) and export (13005) energy.

    Charging the battery from PV is self-consumption too.
    """
    unit = Unit("SH10RT", datetime(2026, 6, 21, 4, 0, tzinfo=UTC))
    unit.sim.set_load(None, 600)
    unit.sim.set_battery(None, soc_pct=10.0)
    unit.run(5 * 3600)
    pv = unit.at(doc_reg(13002))
    exported = unit.at(doc_reg(13005))
    assert pv > 5, "a June morning's yield"
    expected = 100 * (pv - exported) / pv
    # 0.1 kWh steps of the counters
    slack = 100 * 0.1 / pv + 100 * 0.1 * pv / (pv - 0.1) ** 2
    assert unit.at(doc_reg(13029)) == pytest.approx(expected, abs=slack + 0.1)
    assert 0 <= unit.at(doc_reg(13029)) <= 100


def test_self_consumption_is_all_of_it_when_nothing_is_exported():
    """A house that takes more than the PV gives uses all of it.

    100 %, from the first 0.1 kWh of the day on.
    """
    unit = Unit("SH10RT", datetime(2026, 6, 21, 3, 0, tzinfo=UTC))
    unit.sim.set_load(None, 9000)
    unit.sim.set_battery(None, soc_pct=10.0, power_w=0)
    seen = []
    for _ in range(8):
        unit.run(900)
        pv, exported = unit.at(doc_reg(13002)), unit.at(doc_reg(13005))
        if pv > 0:
            assert exported == 0
            seen.append((pv, unit.at(doc_reg(13029))))
    assert seen and seen[0][0] < 1, "the first readings after sunrise are below 1 kWh"
    assert all(share == 100 for _, share in seen)


def test_self_consumption_is_small_when_the_surplus_is_exported():
    """A full battery and no load: all of the PV energy but the losses goes to the grid."""
    unit = Unit("SH10RT", datetime(2026, 6, 21, 4, 0, tzinfo=UTC))
    unit.sim.set_load(None, 0)
    unit.sim.set_battery(None, soc_pct=100.0)
    unit.run(2.5 * 3600)
    pv, exported = unit.at(doc_reg(13002)), unit.at(doc_reg(13005))
    assert pv > 3 and exported > 0.9 * pv
    expected = 100 * (pv - exported) / pv
    assert unit.at(doc_reg(13029)) == pytest.approx(expected, abs=100 * 0.2 / pv + 0.1)


def test_self_consumption_is_zero_before_any_yield():
    unit = Unit("SH10RT", datetime(2026, 6, 21, 0, 30, tzinfo=UTC))
    unit.sim.set_load(None, 600)
    unit.run(600)
    assert unit.at(doc_reg(13002)) == 0
    assert unit.at(doc_reg(13029)) == 0


def test_co2_saved_is_the_energy_produced_times_a_grid_emission_factor():
    """13015 (kg) over 13003 (kWh): one factor, at a grid's emission factor.

    Between 0.2 and 1.0 kg/kWh (grids from mostly renewable to mostly coal).
    """
    # A year of history, so that both totals are large against their resolution.
    unit = Unit(
        "SH10RT",
        datetime(2026, 6, 21, 4, 0, tzinfo=UTC),
        commissioned=datetime(2025, 6, 21, tzinfo=UTC),
    )
    factors = []
    for _ in range(3):
        unit.run(2 * 3600)
        total = unit.at(doc_reg(13003, "U32"))
        factors.append(unit.at(doc_reg(13015, "U32")) / total)
    assert all(0.2 <= f <= 1.0 for f in factors)
    assert max(factors) - min(factors) < 0.01
