"""SungrowModbusTcpClient 0.1.6 and SungrowModbusWebClient 0.3.2 used directly (pymodbus 2.5.3)."""

from clients import run_driver
from expect import SERIALS, SOC_PCT, assert_reading, s16, s32, u32

from tools.wire import decode_ascii

IDENTITY = [
    {"fc": 4, "address": 4999, "count": 1},  # documented 5000: device type code
    {"fc": 4, "address": 4989, "count": 10},  # documented 4990: serial number
]
HYBRID_BLOCK = {"fc": 4, "address": 12999, "count": 100}  # documented 13000-13099
STRING_BLOCK = {"fc": 4, "address": 4999, "count": 100}  # documented 5000-5099
CLOCK = {"fc": 3, "address": 4999, "count": 6}  # documented 5000-5005


def read(sim, client: str, reads: list[dict]) -> dict:
    port = sim.ports["ws_port"] if client == "web" else sim.ports["modbus_port"]
    args = {"client": client, "host": sim.host, "port": port, "unit": 1, "reads": reads}
    result = run_driver("sungather", "sungrow_direct.py", args)
    errors = [r["error"] for r in result["reads"] if "error" in r]
    assert not errors, f"{client} client read errors: {errors}\n{result['_log'][-3000:]}"
    return result


def assert_identity(result: dict, before: dict) -> None:
    (code,), serial = (r["registers"] for r in result["reads"][:2])
    assert code == before["device_code"]
    assert decode_ascii(serial) == SERIALS[before["model"]]


def assert_clock(registers: list[int], before: dict) -> None:
    year, month, day, *_ = registers
    assert f"{year:04d}-{month:02d}-{day:02d}" == before["clock"][:10]


def test_encrypted_tcp_client_reads_a_hybrid(simulator):
    sim = simulator("SH10RT")
    before = sim.inverter()
    result = read(sim, "tcp", [*IDENTITY, HYBRID_BLOCK, CLOCK])
    after = sim.inverter()

    assert result["connected"]
    assert_identity(result, before)
    block = result["reads"][2]["registers"]
    label = "SungrowModbusTcpClient SH10RT"
    assert_reading(label, s32(block, 34), "active_power_w", before, after, 1)  # 13034
    assert_reading(label, s32(block, 10), "grid_power_w", before, after, 1)  # 13010
    assert_reading(label, s16(block[22]), "battery_power_w", before, after, 1)  # 13022
    assert_reading(label, block[23] / 10, "battery_soc_pct", before, after, 0.1)  # 13023
    assert block[23] == round(SOC_PCT * 10)
    assert_clock(result["reads"][3]["registers"], before)


def test_encrypted_tcp_client_reads_a_string_inverter(simulator):
    sim = simulator("SG10RT")
    before = sim.inverter()
    result = read(sim, "tcp", [*IDENTITY, STRING_BLOCK])
    after = sim.inverter()

    assert_identity(result, before)
    block = result["reads"][2]["registers"]
    label = "SungrowModbusTcpClient SG10RT"
    assert_reading(label, block[3] / 10, "daily_yield_kwh", before, after, 0.1)  # 5003
    assert_reading(label, u32(block, 31), "active_power_w", before, after, 1)  # 5031


def test_web_client_lists_and_reads_a_hybrid_including_125_registers(simulator):
    sim = simulator("SH10RT", http=True)
    before = sim.inverter()
    full = {"fc": 4, "address": 12999, "count": 125}
    result = read(sim, "web", [*IDENTITY, full, CLOCK])
    after = sim.inverter()

    assert result["connected"]
    assert (result["dev_type"], result["dev_code"]) == (35, before["device_code"])
    assert_identity(result, before)
    block = result["reads"][2]["registers"]
    assert len(block) == 125
    label = "SungrowModbusWebClient SH10RT"
    assert_reading(label, s32(block, 34), "active_power_w", before, after, 1)
    assert_reading(label, block[23] / 10, "battery_soc_pct", before, after, 0.1)
    assert_reading(label, s32(block, 10), "grid_power_w", before, after, 1)
    assert_clock(result["reads"][3]["registers"], before)


def test_web_client_reads_a_string_inverter(simulator):
    sim = simulator("SG10RT", http=True)
    before = sim.inverter()
    result = read(sim, "web", [*IDENTITY, STRING_BLOCK])
    after = sim.inverter()

    assert (result["dev_type"], result["dev_code"]) == (21, before["device_code"])
    assert_identity(result, before)
    block = result["reads"][2]["registers"]
    label = "SungrowModbusWebClient SG10RT"
    assert_reading(label, u32(block, 31), "active_power_w", before, after, 1)
    assert_reading(label, block[3] / 10, "daily_yield_kwh", before, after, 0.1)


def test_web_client_recovers_from_an_expired_token(simulator):
    sim = simulator("SG10RT", http=True)
    code = {"fc": 4, "address": 4999, "count": 1}
    reads = [
        code,
        {"run": sim.ctl_argv("inject-fault", "token-expiry", "--scope", "http")},
        code,
        {"run": sim.ctl_argv("clear-faults", "token-expiry")},
        code,
    ]
    args = {"client": "web", "host": sim.host, "port": sim.ports["ws_port"], "unit": 1}
    result = run_driver("sungather", "sungrow_direct.py", args | {"reads": reads})

    first, expired, recovered = result["reads"]
    assert first == {"registers": [0x2433]}
    assert "Token Expired: 106" in expired["error"]
    assert recovered == {"registers": [0x2433]}


def test_web_client_cannot_list_devices_on_login_required_firmware(simulator, tmp_path):
    # SungrowModbusWebClient 0.3.2 never logs in: new WiNet-S firmware answers its
    # devicelist with 401, and the client gives up, as its users report.
    config = tmp_path / "winet-login.yaml"
    config.write_text("winet:\n  login_required: true\n")
    sim = simulator("SG10RT", http=True, extra=("--config", str(config)))
    args = {"client": "web", "host": sim.host, "port": sim.ports["ws_port"], "unit": 1}
    result = run_driver("sungather", "sungrow_direct.py", args | {"reads": []})

    assert not result["connected"]
    assert result["connect_error"].startswith("ConnectionException")
    assert "'result_code': 401" in result["_log"] or '"result_code": 401' in result["_log"]
