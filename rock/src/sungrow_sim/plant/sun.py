"""Sun position and clear-sky irradiance (NOAA-style approximations, no data files)."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def day_terms(day_of_year: int) -> tuple[float, float]:
    """(equation of time in hours, declination in radians) on a day of the year."""
    b = 2 * math.pi * (day_of_year - 81) / 364
    equation_of_time_min = 9.87 * math.sin(2 * b) - 7.53 * math.cos(b) - 1.5 * math.sin(b)
    declination = math.radians(23.45) * math.sin(2 * math.pi * (284 + day_of_year) / 365)
    return equation_of_time_min / 60, declination


def elevation_deg(
    utc_hours: float, terms: tuple[float, float], latitude: float, longitude: float
) -> float:
    """Sun elevation at a UTC hour of a day whose `day_terms` are given."""
    equation_of_time_h, declination = terms
    solar_time = utc_hours + longitude / 15 + equation_of_time_h
    hour_angle = math.radians(15 * (solar_time - 12))
    lat = math.radians(latitude)
    sin_el = math.sin(lat) * math.sin(declination) + math.cos(lat) * math.cos(
        declination
    ) * math.cos(hour_angle)
    return math.degrees(math.asin(max(-1.0, min(1.0, sin_el))))


def solar_elevation_deg(when: datetime, latitude: float, longitude: float) -> float:
    """Sun elevation above the horizon in degrees at an aware datetime."""
    utc = when.astimezone(UTC)
    hours = utc.hour + utc.minute / 60 + (utc.second + utc.microsecond / 1e6) / 3600
    return elevation_deg(hours, day_terms(utc.timetuple().tm_yday), latitude, longitude)


def clear_sky_ghi(elevation_deg: float) -> float:
    """Global horizontal irradiance in W/m2 under a clear sky (Haurwitz model)."""
    cos_zenith = math.sin(math.radians(elevation_deg))
    if cos_zenith <= 0.01:
        return 0.0
    return 1098.0 * cos_zenith * math.exp(-0.057 / cos_zenith)
