"""Display names of the registry's enumerations (translated in templates)."""

from __future__ import annotations

from txng.errors import N_

ORGANISATION_KIND_LABELS = {
    "enterprise": N_("Enterprise"),
    "cooperative": N_("Cooperative"),
    "household_business": N_("Household business"),
    "other": N_("Other"),
}

FACILITY_KIND_LABELS = {
    "farm": N_("Farm"),
    "growing_area": N_("Growing area"),
    "pond": N_("Pond"),
    "barn": N_("Barn"),
    "packing_house": N_("Packing house"),
    "factory": N_("Factory"),
    "warehouse": N_("Warehouse"),
    "shop": N_("Shop"),
}

SCHEME_LABELS = {
    "vietgap": "VietGAP",
    "globalgap": "GlobalG.A.P.",
    "organic": N_("Organic"),
    "haccp": "HACCP",
    "iso22000": "ISO 22000",
    "other": N_("Other"),
}

UNIT_LABELS = {
    "g": "g",
    "kg": "kg",
    "mg": "mg",
    "ml": "ml",
    "l": N_("litre"),
    "pcs": N_("pieces"),
}
