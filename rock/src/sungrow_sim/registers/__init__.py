"""The register side: the catalogue (models and registers), encoding, the image, codes."""

from sungrow_sim.registers.catalogue import DataType, ModelSpec, RegisterSpec, Table, catalogue
from sungrow_sim.registers.codes import START, STOP, ExceptionCode
from sungrow_sim.registers.encoding import decode, decode_ascii, encode, encode_ascii, to_raw
from sungrow_sim.registers.image import RegisterImage
from sungrow_sim.registers.quantities import compute
from sungrow_sim.registers.settings import SettingError, SettingsStore, settings_catalogue

__all__ = [
    "START",
    "STOP",
    "DataType",
    "ExceptionCode",
    "ModelSpec",
    "RegisterImage",
    "RegisterSpec",
    "SettingError",
    "SettingsStore",
    "Table",
    "catalogue",
    "compute",
    "decode",
    "decode_ascii",
    "encode",
    "encode_ascii",
    "settings_catalogue",
    "to_raw",
]
