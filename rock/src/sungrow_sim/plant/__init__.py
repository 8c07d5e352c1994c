"""The physical plant: sun, PV array, house load, battery and grid, integrated over time."""

from sungrow_sim.plant.model import Controls, Counters, Flows, Plant, PlantConfig, WorkState
from sungrow_sim.plant.sun import clear_sky_ghi, solar_elevation_deg

__all__ = [
    "Controls",
    "Counters",
    "Flows",
    "Plant",
    "PlantConfig",
    "WorkState",
    "clear_sky_ghi",
    "solar_elevation_deg",
]
