"""The sun against published solar positions for known places and instants.

Source of the expected values: NOAA Global Monitoring Laboratory's solar calculator
(gml.noaa.gov/grad/solcalc), i.e. NOAA's published solar position equations (Meeus), for
the dates below; sunrise is the instant the sun's centre is 0.833 degrees below the
horizon (refraction and semidiameter), as NOAA and almanacs publish it. Cross-checks from
almanacs: Munich's solstice sunrise is 05:13 CEST, Sydney's 05:41 AEDT, New York's on the
March equinox 06:59 EDT.

The simulator uses a simpler approximation, so the tolerances are stated per quantity:
solar noon within 4 minutes, the elevation within 1.2 degrees (its declination formula is
up to a degree off near the equinoxes: 48.5 instead of NOAA's 49.3 in New York on March
20th), sunrise within 6 minutes. A flipped longitude moves solar noon by 8 minutes per degree of longitude (over
90 minutes in Munich), a flipped latitude or declination moves the noon elevation by tens
of degrees.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sungrow_sim.plant.sun import clear_sky_ghi, solar_elevation_deg

# place, latitude, longitude, UTC day start, solar noon (UTC), noon elevation, sunrise (UTC)
PUBLISHED = [
    ("Munich, June solstice", 48.14, 11.58, datetime(2026, 6, 21, tzinfo=UTC),
     datetime(2026, 6, 21, 11, 15, 30, tzinfo=UTC), 65.30,
     datetime(2026, 6, 21, 3, 13, 30, tzinfo=UTC)),
    ("Sydney, December solstice", -33.87, 151.21, datetime(2026, 12, 20, 12, tzinfo=UTC),
     datetime(2026, 12, 21, 1, 53, 0, tzinfo=UTC), 79.57,
     datetime(2026, 12, 20, 18, 41, 0, tzinfo=UTC)),
    ("New York, March equinox", 40.71, -74.01, datetime(2026, 3, 20, tzinfo=UTC),
     datetime(2026, 3, 20, 17, 3, 30, tzinfo=UTC), 49.33,
     datetime(2026, 3, 20, 10, 59, 30, tzinfo=UTC)),
    ("Quito, September equinox", -0.18, -78.47, datetime(2026, 9, 23, tzinfo=UTC),
     datetime(2026, 9, 23, 17, 6, 0, tzinfo=UTC), 89.89,
     datetime(2026, 9, 23, 11, 3, 0, tzinfo=UTC)),
]  # fmt: skip
SUNRISE_ELEVATION = -0.833
STEP = timedelta(seconds=30)


def _day(start: datetime, lat: float, lon: float) -> list[tuple[datetime, float]]:
    return [
        (start + i * STEP, solar_elevation_deg(start + i * STEP, lat, lon))
        for i in range(int(timedelta(days=1) / STEP))
    ]


@pytest.mark.parametrize(
    ("place", "lat", "lon", "day", "noon", "elevation", "sunrise"),
    PUBLISHED,
    ids=[p[0] for p in PUBLISHED],
)
def test_solar_noon_elevation_and_sunrise_match_published_values(
    place, lat, lon, day, noon, elevation, sunrise
):
    samples = _day(day, lat, lon)
    peak_time, peak = max(samples, key=lambda s: s[1])
    assert abs((peak_time - noon).total_seconds()) <= 4 * 60, f"{place}: solar noon {peak_time}"
    assert peak == pytest.approx(elevation, abs=1.2), f"{place}: noon elevation"
    rise = next(
        t for (t, e), (_, prev) in zip(samples[1:], samples, strict=False)
        if prev < SUNRISE_ELEVATION <= e
    )  # fmt: skip
    assert abs((rise - sunrise).total_seconds()) <= 6 * 60, f"{place}: sunrise {rise}"


def test_the_sun_is_below_the_horizon_at_local_midnight_and_irradiance_is_zero():
    midnight_munich = datetime(2026, 6, 20, 22, 0, tzinfo=UTC)  # 00:00 CEST
    elevation = solar_elevation_deg(midnight_munich, 48.14, 11.58)
    # NOAA: -16.45 degrees at 22:00 UTC (solar midnight, 45 minutes later, is -18.4).
    assert elevation == pytest.approx(-16.45, abs=1.2)
    assert clear_sky_ghi(elevation) == 0.0


def test_clear_sky_irradiance_follows_the_haurwitz_model():
    """Haurwitz's published clear-sky GHI, 1098 cos z exp(-0.057 / cos z) W/m2.

    1037 W/m2 with the sun overhead, 490 W/m2 at 30 degrees, nothing with the sun down.
    """
    values = [clear_sky_ghi(e) for e in (1, 5, 10, 20, 30, 45, 60, 90)]
    assert values == sorted(values)
    assert clear_sky_ghi(90) == pytest.approx(1037, rel=0.01)
    assert clear_sky_ghi(30) == pytest.approx(490, rel=0.01)
    assert clear_sky_ghi(0.0) == 0.0
    assert clear_sky_ghi(-5) == 0.0
