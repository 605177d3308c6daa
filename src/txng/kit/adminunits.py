"""Vietnam's administrative units after the 2025 reform (34 provinces, 3,321 communes).

Read once from the ``vietnamadminunits`` package's bundled SQLite data set; codes are the
General Statistics Office codes (province "24" = Bắc Ninh, commune "07582" = Xã Lục Ngạn).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    kind: str
    province_code: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    short_name: str


@dataclass(frozen=True)
class AdminUnits:
    provinces: dict[str, Province]
    communes: dict[str, Commune]

    def communes_of(self, province_code: str) -> list[Commune]:
        return sorted(
            (c for c in self.communes.values() if c.province_code == province_code),
            key=lambda c: c.name,
        )

    def commune_in_province(self, commune_code: str, province_code: str) -> bool:
        commune = self.communes.get(commune_code)
        return commune is not None and commune.province_code == province_code

    def label(self, commune_code: str | None) -> str:
        """``Xã Lục Ngạn, Tỉnh Bắc Ninh`` for display."""
        commune = self.communes.get(commune_code or "")
        if commune is None:
            return ""
        province = self.provinces[commune.province_code]
        return f"{commune.name}, {province.name}"


@lru_cache(maxsize=1)
def admin_units() -> AdminUnits:
    data = resources.files("vietnamadminunits") / "data" / "dataset.db"
    with resources.as_file(data) as path:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute(
                "SELECT DISTINCT provinceCode, province, provinceShort, wardCode, ward, wardType,"
                " wardLat, wardLon FROM admin_units"
            ).fetchall()
        finally:
            conn.close()
    provinces: dict[str, Province] = {}
    communes: dict[str, Commune] = {}
    for p_code, p_name, p_short, w_code, w_name, w_type, lat, lon in rows:
        provinces.setdefault(p_code, Province(p_code, p_name, p_short))
        communes[w_code] = Commune(w_code, w_name, w_type, p_code, lat, lon)
    return AdminUnits(provinces, communes)
