"""The packaged catalogue: complete, and in step with SunGather's register file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sungrow_sim.registers import catalogue
from sungrow_sim.registers.catalogue import protocol_map

ROOT = Path(__file__).resolve().parents[3]
# Beside the checkout (/work/main -> /work/shared) or beside a worktree folder.
REFERENCE = next(
    (
        p / "shared" / "reference" / "sungather-registers-sungrow.yaml"
        for p in ROOT.parents[:2]
        if (p / "shared" / "reference" / "sungather-registers-sungrow.yaml").is_file()
    ),
    ROOT.parent / "shared" / "reference" / "sungather-registers-sungrow.yaml",
)
PACKAGED = ROOT / "rock" / "src" / "sungrow_sim" / "registers" / "data"


@pytest.fixture
def _reference_present() -> None:
    """SunGather's register file is what the catalogue is checked against: fail without it."""
    if not REFERENCE.is_file():
        pytest.fail(f"{REFERENCE} is not beside this checkout (put shared/ beside it)")


needs_reference = pytest.mark.usefixtures("_reference_present")


@needs_reference
def test_the_packaged_catalogue_is_what_the_generator_makes_from_sungathers_file(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_catalogue.py"), str(REFERENCE), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in ("models.json", "registers.json"):
        assert (tmp_path / name).read_text() == (PACKAGED / name).read_text(), (
            f"{name} is stale: run tools/gen_catalogue.py"
        )


@needs_reference
def test_every_device_code_in_sungathers_table_or_the_documents_is_a_model():
    doc = yaml.safe_load(REFERENCE.read_text())
    table = next(r for r in doc["registers"][0]["read"] if r["name"] == "device_type_code")[
        "datarange"
    ]
    documents = {
        (row.name, row.device_code)
        for fam in protocol_map().families.values()
        for row in fam.models
    }
    assert {(d["value"], d["response"]) for d in table} | documents == {
        (m.name, m.device_code) for m in catalogue().models.values()
    }


@pytest.mark.parametrize(
    ("model", "code", "family", "watts", "phases"),
    [
        ("SG10RT", 0x2433, "string", 10000, 3),
        ("SH10RT", 0x0E03, "hybrid", 10000, 3),
        ("SH5.0RS", 0x0D0F, "hybrid", 5000, 1),
        ("SG5K-D", 0x0126, "string", 5000, 1),
        ("SH3K6", 0x0D06, "hybrid", 3600, 1),
        ("SG33K3J", 0x013D, "string", 33300, 3),
    ],
)
def test_models_carry_their_code_family_rating_and_phases(model, code, family, watts, phases):
    spec = catalogue().model(model)
    assert (spec.device_code, spec.family, spec.nominal_power_w, spec.phases) == (
        code,
        family,
        watts,
        phases,
    )


def test_an_unknown_model_suggests_close_names():
    with pytest.raises(KeyError, match="did you mean SH10RT"):
        catalogue().model("SH10")


def test_every_register_has_a_source_or_a_constant_unless_it_is_reserved():
    unsourced = [
        r.name
        for r in catalogue().registers
        if r.source is None and r.value is None and r.datatype != "UTF-8"
    ]
    # Alarm, fault and protection words read zero while healthy; the rest must be driven.
    allowed = (
        "alarm",
        "fault",
        "protection",
        "warning",
        "drm_state",
        "pid_",
        "backup",
        "reactive",
        "negative_voltage",
        "export_limit_min",
        "current_transformer",
        "start_",
        "charge_discharge_power",
        "power_limitation_adjustment",
        "export_power_limitation",
        "alarm_time_second",
    )
    assert [n for n in unsourced if not any(a in n for a in allowed)] == []
