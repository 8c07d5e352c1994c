"""pysungrow 1.1.0 (pymodbus 3.0.2) and sungrowinverter 0.2.3 (pymodbus 3.6) on Modbus TCP."""

import pytest
from clients import run_driver
from expect import SERIALS, SOC_PCT, assert_reading

PYSUNGROW_KEYS = ["total_active_power", "daily_output_energy", "battery_level", "export_power"]


def pysungrow(sim, refresh: bool) -> dict:
    args = {"host": sim.host, "port": sim.ports["modbus_port"], "slave": 1}
    args |= {"refresh": refresh, "keys": PYSUNGROW_KEYS}
    return run_driver("pysungrow", "pysungrow_identify.py", args)


def sungrowinverter(sim, update: bool, keys: list[str]) -> dict:
    args = {"host": sim.host, "port": sim.ports["modbus_port"], "update": update, "keys": keys}
    return run_driver("sungrowinverter", "sungrowinverter_update.py", args)


def test_pysungrow_identifies_a_hybrid(simulator):
    sim = simulator("SH10RT")
    before = sim.inverter()
    result = pysungrow(sim, refresh=False)

    assert result["device"] == "SH10RT"
    assert result["device_code"] == before["device_code"]
    assert result["serial_number"] == SERIALS["SH10RT"]
    assert result["keys"] > 50


def test_pysungrow_refresh_reads_the_simulators_state(simulator):
    sim = simulator("SH10RT")
    before = sim.inverter()
    result = pysungrow(sim, refresh=True)
    after = sim.inverter()

    assert "refresh_error" not in result, f"{result['refresh_error']}\n{result['_log'][-2000:]}"
    values = result["values"]
    label = "pysungrow SH10RT"
    assert_reading(label, values["total_active_power"], "active_power_w", before, after, 1)
    assert_reading(label, values["daily_output_energy"], "daily_yield_kwh", before, after, 0.1)
    assert values["battery_level"] == pytest.approx(SOC_PCT, abs=0.1)
    assert_reading(label, values["export_power"], "grid_power_w", before, after, 1)


@pytest.mark.parametrize("model", ["SG10RT", "SH10RT"])
def test_sungrowinverter_identifies(simulator, model):
    sim = simulator(model)
    before = sim.inverter()
    result = sungrowinverter(sim, update=False, keys=[])

    assert result["identified"], result["_log"][-3000:]
    assert result["model"] == model
    assert result["device_code"] == before["device_code"]
    assert result["serial_number"] == SERIALS[model]
    assert result["inverter_type"] == before["family"]


@pytest.mark.parametrize("model", ["SG10RT", "SH10RT"])
def test_sungrowinverter_update_reads_the_simulators_state(simulator, model):
    sim = simulator(model)
    before = sim.inverter()
    hybrid = before["family"] == "hybrid"
    keys = ["total_active_power", "daily_energy_yield"]
    keys += ["battery_level", "export_power"] if hybrid else []
    result = sungrowinverter(sim, update=True, keys=keys)
    after = sim.inverter()

    assert result["updated"], result["_log"][-3000:]
    values = result["values"]
    label = f"sungrowinverter {model}"
    assert_reading(label, values["daily_energy_yield"], "daily_yield_kwh", before, after, 0.1)
    if not hybrid:
        assert_reading(label, values["total_active_power"], "active_power_w", before, after, 1)
        return
    # sungrowinverter 0.2.3 declares hybrid 13034 with unit_precision "W" (a string), so
    # decoding it raises inside the client and the value is never set.
    assert values["total_active_power"] is None
    assert values["battery_level"] == pytest.approx(SOC_PCT, abs=0.1)
    assert_reading(label, values["battery_level"], "battery_soc_pct", before, after, 0.1)
    assert_reading(label, values["export_power"], "grid_power_w", before, after, 1)
