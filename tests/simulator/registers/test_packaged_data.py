"""The packaged data files: valid by their models, and loaded at run time exactly as validated.

A serving process loads the files as trusted records, without building the models'
validators (`catalogue.trusted`). These tests are where the files are validated, and
they hold the trusted records to the validated ones: same values, same types (`repr`
tells 1 from 1.0 and a list from a tuple).
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from pydantic.dataclasses import dataclass
from sungrow_sim.registers.catalogue import (
    catalogue,
    protocol_map,
    trusted,
    validated_catalogue,
    validated_protocol_map,
)
from sungrow_sim.registers.settings import settings_catalogue, validated_settings

LOADERS = {
    "catalogue": (catalogue, validated_catalogue),
    "protocol map": (protocol_map, validated_protocol_map),
    "settings": (settings_catalogue, validated_settings),
}


@pytest.mark.parametrize("name", LOADERS)
def test_the_run_time_records_are_the_validated_ones(name):
    loaded, validated = (load() for load in LOADERS[name])
    assert repr(loaded) == repr(validated)
    assert loaded == validated


def test_every_register_shares_one_copy_of_each_model_list():
    lists = {}
    for reg in catalogue().registers:
        if reg.models is not None:
            assert lists.setdefault(reg.models, reg.models) is reg.models
    assert lists, "no register names its models"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Record:
    count: float
    pair: tuple[float, int] | None = None
    rows: tuple[tuple[int, float], ...] = ()
    label: str = "x"


class _Flat(BaseModel):
    limit: float | str
    given: int = 3


def test_trusted_turns_json_as_the_validator_would():
    data = {"count": 2, "pair": [1, 2], "rows": [[1, 2], [3, 4]]}
    record = trusted(_Record, data)
    assert repr(record) == repr(_Record(**data))  # type: ignore[arg-type]
    assert record.rows == ((1, 2.0), (3, 4.0)) and type(record.rows[0][1]) is float
    flat = trusted(_Flat, {"limit": 0})
    assert repr(flat) == repr(_Flat(limit=0)) and flat.model_fields_set == {"limit"}
    assert trusted(_Flat, {"limit": "nominal_power_w"}).limit == "nominal_power_w"


def test_a_required_field_missing_from_the_data_is_an_error():
    with pytest.raises(KeyError, match="count"):
        trusted(_Record, {"pair": [1, 2]})
