"""pysungrow 1.1.0 (pymodbus 3.0.2) and sungrowinverter 0.2.3 (pymodbus 3.6) on Modbus TCP."""

import pytest
from clients import run_driver
from expect import SERIALS, SOC_PCT, assert_reading


def test_pysungrow_identifies_and_refreshes_a_hybrid(simulator):
    sim = simulator("SH10RT")
    before = sim.inverter()
    keys = ["total_active_power", "daily_output_energy", "battery_level", "export_power"]
    args = {"host": sim.host, "port": sim.ports["modbus_port"], "slave": 1, "keys": keys}
    result = run_driver("pysungrow", "pysungrow_identify.py", args)
    after = sim.inverter()

    assert result["device"] == "SH10RT"
    assert result["device_code"] == before["device_code"]
    assert result["serial_number"] == SERIALS["SH10RT"]
    assert result["keys"] > 50
    assert "refresh_error" not in result, f"{result['refresh_error']}\n{result['_log'][-2000:]}"
    values = result["values"]
    label = "pysungrow SH10RT"
    assert_reading(label, values["total_active_power"], "active_power_w", before, after, 1)
    assert_reading(label, values["daily_output_energy"], "daily_yield_kwh", before, after, 0.1)
    assert values["battery_level"] == pytest.approx(SOC_PCT, abs=0.1)
    assert_reading(label, values["export_power"], "grid_power_w", before, after, 1)


@pytest.mark.parametrize("model", ["SG10RT", "SH10RT"])
def test_sungrowinverter_identifies_and_updates(simulator, model):
    sim = simulator(model)
    before = sim.inverter()
    hybrid = before["family"] == "hybrid"
    keys = ["total_active_power", "daily_energy_yield"]
    keys += ["battery_level", "export_power"] if hybrid else []
    args = {"host": sim.host, "port": sim.ports["modbus_port"], "keys": keys}
    result = run_driver("sungrowinverter", "sungrowinverter_update.py", args)
    after = sim.inverter()

    assert result["identified"], result["_log"][-3000:]
    assert result["model"] == model
    assert result["device_code"] == before["device_code"]
    assert result["serial_number"] == SERIALS[model]
    assert result["inverter_type"] == before["family"]
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
