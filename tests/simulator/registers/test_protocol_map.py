"""The register map from the vendor documents: well-formed data, served as the map says."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sungrow_sim.registers import catalogue
from sungrow_sim.registers.catalogue import ProtocolMap, protocol_map

DATA = Path(__file__).resolve().parents[3] / "rock/src/sungrow_sim/registers/data/protocol.json"
TYPE_BITS = {"U16": (0, 0xFFFF), "S16": (-0x8000, 0x7FFF), "U32": (0, 0xFFFFFFFF)}
TYPE_BITS["S32"] = (-0x80000000, 0x7FFFFFFF)
FAMILIES = ("hybrid", "string")


def entries():
    for family, fam in protocol_map().families.items():
        for table in ("input", "holding"):
            for reg in fam.table(table):
                yield family, table, reg


def test_no_two_entries_of_a_table_share_a_word_and_names_are_unique():
    for family, fam in protocol_map().families.items():
        for table in ("input", "holding"):
            words: dict[int, str] = {}
            for reg in fam.table(table):
                for wire in range(reg.address - 1, reg.address - 1 + reg.width):
                    assert wire not in words, (family, table, reg.name, words.get(wire))
                    words[wire] = reg.name
            names = [r.name for r in fam.table(table)]
            assert len(names) == len(set(names)), (family, table)


def test_types_are_sized_right():
    raw = json.loads(DATA.read_text())
    for family in FAMILIES:
        for table in ("input", "holding"):
            for entry in raw["families"][family][table]:
                reg = next(r for r in protocol_map().families[family].table(table)
                           if r.address == entry["address"])  # fmt: skip
                per = {"U16": 1, "S16": 1, "U32": 2, "S32": 2}.get(entry["type"])
                expected = entry.get("count", 1) * per if per else entry["count"]
                assert reg.width == expected, (family, table, entry["name"])
                if entry["type"] == "UTF-8":
                    assert "count" in entry, entry["name"]  # text length is explicit


def test_enumerations_defaults_and_ranges_fit_their_types():
    for family, table, reg in entries():
        lo, hi = TYPE_BITS.get(reg.type, (0, 0))
        for raw in reg.raw_enum:
            assert lo <= raw <= hi, (family, table, reg.name, raw)
        if reg.bits:
            width = 16 if reg.type in ("U16", "S16") else 32
            assert all(0 <= int(bit) < width for bit in reg.bits), reg.name
        if reg.default is not None and reg.type != "UTF-8":
            raw = round(reg.default / reg.scale)
            assert lo <= raw <= hi, (family, table, reg.name)
            if reg.enum:
                assert raw in reg.raw_enum, (family, table, reg.name, raw)
            if reg.range:
                assert reg.range[0] <= reg.default <= reg.range[1], (family, reg.name)
        if reg.range:
            assert lo <= round(reg.range[0] / reg.scale) <= round(reg.range[1] / reg.scale) <= hi


def test_a_malformed_map_is_refused_with_the_reason():
    raw = json.loads(DATA.read_text())
    holding = raw["families"]["hybrid"]["holding"]
    holding.append({"address": 13051, "name": "clash", "type": "U16"})
    with pytest.raises(ValidationError, match="overlaps"):
        ProtocolMap.model_validate(raw)
    holding.pop()
    holding.append(
        {"address": 13999, "name": "bad", "type": "U16", "enum": {"0xAA": "a", "170": "b"}}
    )
    with pytest.raises(ValidationError, match="duplicate raw values"):
        ProtocolMap.model_validate(raw)


def test_every_device_code_of_the_documents_is_a_model_with_the_documents_facts():
    models = catalogue().models
    for family, fam in protocol_map().families.items():
        for row in fam.models:
            spec = models[row.name]
            assert (spec.device_code, spec.family, spec.mppt_count) == (
                row.device_code,
                family,
                row.mppt,
            ), row.name
            assert spec.strings_per_mppt == row.strings
    spec = models["SH8.0RT-20"]
    assert (spec.device_code, spec.nominal_power_w, spec.phases, spec.mppt_count) == (
        0x0E12,
        8000,
        3,
        2,
    )


def test_the_settings_other_helpers_hook_are_flagged():
    hybrid = {r.address for r in protocol_map().families["hybrid"].settings()}
    assert {5007, 5008, 13050, 13051, 13052, 13058, 13059, 13074, 13075, 13087} <= hybrid
    assert {13089, 13090, 13100, 31222, 33047, 33048, 33148, 33208} <= hybrid
    string = {r.address for r in protocol_map().families["string"].settings()}
    assert {5006, 5007, 5008, 5010, 5011} <= string
    # Only holding registers are settings.
    assert not [r for _, t, r in entries() if r.setting and t == "input"]


def _quantity_names(model: str) -> set[str]:
    from sungrow_sim.config import ServeConfig
    from sungrow_sim.service import build

    config = ServeConfig.model_validate(
        {"inverters": [{"model": model}], "start_time": datetime(2026, 6, 21, 10, tzinfo=UTC)}
    )
    sim = build(config, None, lambda: None)
    sim.refresh()
    return set(sim.inverter(1).quantities)


@pytest.mark.parametrize(("family", "model"), [("hybrid", "SH8.0RT-20"), ("string", "SG10RT")])
def test_every_quantity_the_map_names_is_computed(family, model):
    known = _quantity_names(model)
    named = {r.quantity for f, _, r in entries() if f == family and r.quantity}
    # The alarm time exists only while a fault lasts; the register reads 0 otherwise.
    assert {n for n in named - known if not n.startswith("alarm_")} == set()


def test_every_model_answers_every_register_of_its_family():
    from sungrow_sim.registers import RegisterImage

    cat = catalogue()
    missing = []
    for spec in cat.models.values():
        image = RegisterImage(spec, cat.registers_of(spec.name), "SIM0000001")
        for table in ("input", "holding"):
            for reg in protocol_map().families[spec.family].table(table):
                if not image.supports(table, reg.address - 1, reg.width):  # type: ignore[arg-type]
                    missing.append((spec.name, table, reg.address))
    assert missing == []
