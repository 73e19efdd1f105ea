"""WGS84 <-> ETRS-TM35FIN (EPSG:3067), the plane coordinates PTV stores points in."""

from __future__ import annotations

import math


def wgs84_to_tm35fin(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 degrees to ETRS-TM35FIN (EPSG:3067) northing/easting, as PTV stores points.

    Krüger n-series for the transverse Mercator projection (JHS 197), sub-millimetre here.
    """
    a, f = 6378137.0, 1 / 298.257222101
    k0, lon0, false_e = 0.9996, math.radians(27.0), 500000.0
    n = f / (2 - f)
    a1 = a / (1 + n) * (1 + n**2 / 4 + n**4 / 64)
    e = math.sqrt(f * (2 - f))
    h1 = n / 2 - 2 * n**2 / 3 + 5 * n**3 / 16 + 41 * n**4 / 180
    h2 = 13 * n**2 / 48 - 3 * n**3 / 5 + 557 * n**4 / 1440
    h3 = 61 * n**3 / 240 - 103 * n**4 / 140
    h4 = 49561 * n**4 / 161280
    phi, lam = math.radians(lat), math.radians(lon)
    q = math.asinh(math.tan(phi)) - e * math.atanh(e * math.sin(phi))
    beta = math.atan(math.sinh(q))
    eta0 = math.atanh(math.cos(beta) * math.sin(lam - lon0))
    xi0 = math.asin(math.sin(beta) * math.cosh(eta0))
    xi = xi0 + sum(
        h * math.sin(2 * k * xi0) * math.cosh(2 * k * eta0)
        for k, h in enumerate((h1, h2, h3, h4), start=1)
    )
    eta = eta0 + sum(
        h * math.cos(2 * k * xi0) * math.sinh(2 * k * eta0)
        for k, h in enumerate((h1, h2, h3, h4), start=1)
    )
    return a1 * xi * k0, a1 * eta * k0 + false_e


def tm35fin_to_wgs84(northing: float, easting: float) -> tuple[float, float] | None:
    """ETRS-TM35FIN back to WGS84 (lon, lat) by Newton steps on the forward mapping;
    None for a point outside Finland's reach (PTV data has zeros and swapped axes)."""
    if not (6_500_000 <= northing <= 7_800_000 and 0 <= easting <= 800_000):
        return None
    lat, lon = northing / 111_200.0, 27.0 + (easting - 500_000.0) / 50_000.0
    for _ in range(8):
        n0, e0 = wgs84_to_tm35fin(lon, lat)
        dn, de = northing - n0, easting - e0
        if abs(dn) < 1e-4 and abs(de) < 1e-4:
            break
        n_lat, e_lat = wgs84_to_tm35fin(lon, lat + 1e-5)
        n_lon, e_lon = wgs84_to_tm35fin(lon + 1e-5, lat)
        a, b = (n_lat - n0) / 1e-5, (n_lon - n0) / 1e-5
        c, d = (e_lat - e0) / 1e-5, (e_lon - e0) / 1e-5
        det = a * d - b * c
        lat += (d * dn - b * de) / det
        lon += (a * de - c * dn) / det
    return lon, lat
