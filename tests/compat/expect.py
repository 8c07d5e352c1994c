"""What the compat tests expect: test serials, pinned readings, value comparison."""

from simproc import SimProcess

# Test serials: 10 characters, what SunGather decodes.
SERIALS = {
    "SG5K-D": "SC00050001",
    "SG10RT": "SC00100002",
    "SH5.0RS": "SC00050103",
    "SH10RT": "SC00100104",
}
LOAD_W = 777
SOC_PCT = 57.5


def pin_readings(sim: SimProcess) -> None:
    """Fix power, load and battery so client reads can be compared with `ctl state`."""
    inverter = sim.inverter()
    sim.ctl("set-power", str(round(inverter["nominal_power_w"] * 0.4321)))
    sim.ctl("set-load", str(LOAD_W))
    if inverter["family"] == "hybrid":
        sim.ctl("set-battery", "--soc", str(SOC_PCT), "--power", "0")


def assert_reading(
    label: str, value: float | None, name: str, before: dict, after: dict, resolution: float
) -> None:
    """Assert a client's `value` equals the simulator's reading `name`.

    The reading may move between the `before` and `after` snapshots; `resolution` is the
    register's step.
    """
    low = min(before["readings"][name], after["readings"][name]) - resolution
    high = max(before["readings"][name], after["readings"][name]) + resolution
    assert value is not None, f"{label}: the client read nothing for {name}"
    assert low <= value <= high, (
        f"{label}: client read {value}, simulator {name} was "
        f"{before['readings'][name]} before and {after['readings'][name]} after"
    )


def u32(registers: list[int], index: int) -> int:
    """Sungrow 32-bit value: low word first."""
    return registers[index] + (registers[index + 1] << 16)


def s32(registers: list[int], index: int) -> int:
    """Signed Sungrow 32-bit value."""
    value = u32(registers, index)
    return value - (1 << 32) if value & 0x80000000 else value


def s16(value: int) -> int:
    """Signed 16-bit register."""
    return value - 0x10000 if value & 0x8000 else value
