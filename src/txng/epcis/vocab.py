"""CBV 2.0 / EPCIS 2.0 standard vocabularies.

The value lists are the enumerations of the EPCIS 2.0 JSON schema (``EPCIS-JSON-Schema.json``) and
the standard JSON-LD context, which follow GS1 CBV 2.0.  Every standard value has three spellings
that mean the same thing:

* the bare short name used in JSON-LD (``shipping``),
* the CBV 2.0 Web URI (``https://ref.gs1.org/cbv/BizStep-shipping``),
* the CBV 1.x URN still used by XML documents (``urn:epcglobal:cbv:bizstep:shipping``).

:func:`vocab_short` maps any of them to the short name and :func:`vocab_uri` gives the Web URI.
"""

from __future__ import annotations

from typing import Final

CBV_BASE: Final = "https://ref.gs1.org/cbv/"
EPCIS_BASE: Final = "https://ref.gs1.org/epcis/"
GS1_VOC_BASE: Final = "https://gs1.org/voc/"

EVENT_TYPES: Final[frozenset[str]] = frozenset(
    {
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    }
)

ACTIONS: Final[frozenset[str]] = frozenset({"OBSERVE", "ADD", "DELETE"})

BIZ_STEPS: Final[frozenset[str]] = frozenset(
    {
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
        "sensor_reporting",
        "sampling",
    }
)

DISPOSITIONS: Final[frozenset[str]] = frozenset(
    {
        "active",
        "container_closed",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "no_pedigree_match",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unknown",
        "available",
        "completeness_verified",
        "completeness_inferred",
        "conformant",
        "container_open",
        "mismatch_instance",
        "mismatch_class",
        "mismatch_quantity",
        "needs_replacement",
        "non_conformant",
        "unavailable",
    }
)

BIZ_TRANSACTION_TYPES: Final[frozenset[str]] = frozenset(
    {
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    }
)

SOURCE_DEST_TYPES: Final[frozenset[str]] = frozenset(
    {"owning_party", "possessing_party", "location"}
)

ERROR_REASONS: Final[frozenset[str]] = frozenset({"did_not_occur", "incorrect_data"})

SENSOR_MEASUREMENT_TYPES: Final[frozenset[str]] = frozenset(
    {
        "AbsoluteHumidity",
        "AbsorbedDose",
        "AbsorbedDoseRate",
        "Acceleration",
        "Radioactivity",
        "Altitude",
        "AmountOfSubstance",
        "AmountOfSubstancePerUnitVolume",
        "Angle",
        "AngularAcceleration",
        "AngularMomentum",
        "AngularVelocity",
        "Area",
        "Capacitance",
        "Conductance",
        "Conductivity",
        "Count",
        "Density",
        "Dimensionless",
        "DoseEquivalent",
        "DoseEquivalentRate",
        "DynamicViscosity",
        "ElectricCharge",
        "ElectricCurrent",
        "ElectricCurrentDensity",
        "ElectricFieldStrength",
        "Energy",
        "Exposure",
        "Force",
        "Frequency",
        "Illuminance",
        "Inductance",
        "Irradiance",
        "KinematicViscosity",
        "Length",
        "LinearMomentum",
        "Luminance",
        "LuminousFlux",
        "LuminousIntensity",
        "MagneticFlux",
        "MagneticFluxDensity",
        "MagneticVectorPotential",
        "Mass",
        "MassConcentration",
        "MassFlowRate",
        "MassPerAreaTime",
        "MemoryCapacity",
        "MolalityOfSolute",
        "MolarEnergy",
        "MolarMass",
        "MolarVolume",
        "Power",
        "Pressure",
        "RadiantFlux",
        "RadiantIntensity",
        "RelativeHumidity",
        "Resistance",
        "Resistivity",
        "SolidAngle",
        "SpecificVolume",
        "Speed",
        "SurfaceDensity",
        "SurfaceTension",
        "Temperature",
        "Time",
        "Torque",
        "Voltage",
        "Volume",
        "VolumeFlowRate",
        "VolumeFraction",
        "VolumetricFlux",
        "Wavenumber",
    }
)

SENSOR_ALERT_TYPES: Final[frozenset[str]] = frozenset({"ALARM_CONDITION", "ERROR_CONDITION"})

SENSOR_COMPONENTS: Final[frozenset[str]] = frozenset(
    {
        "x",
        "y",
        "z",
        "axial_distance",
        "azimuth",
        "height",
        "spherical_radius",
        "polar_angle",
        "elevation_angle",
        "easting",
        "northing",
        "latitude",
        "longitude",
        "altitude",
    }
)

# kind -> (short names, CBV 2.0 Web URI prefix, CBV 1.x URN prefix or None)
_KINDS: Final[dict[str, tuple[frozenset[str], str, str | None]]] = {
    "bizStep": (BIZ_STEPS, CBV_BASE + "BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": (DISPOSITIONS, CBV_BASE + "Disp-", "urn:epcglobal:cbv:disp:"),
    "bizTransactionType": (BIZ_TRANSACTION_TYPES, CBV_BASE + "BTT-", "urn:epcglobal:cbv:btt:"),
    "sourceDestType": (SOURCE_DEST_TYPES, CBV_BASE + "SDT-", "urn:epcglobal:cbv:sdt:"),
    "errorReason": (ERROR_REASONS, CBV_BASE + "ER-", "urn:epcglobal:cbv:er:"),
    "component": (SENSOR_COMPONENTS, CBV_BASE + "Comp-", None),
    "measurementType": (SENSOR_MEASUREMENT_TYPES, GS1_VOC_BASE, None),
    "sensorAlertType": (SENSOR_ALERT_TYPES, GS1_VOC_BASE, None),
}

#: Kinds understood by :func:`vocab_short` and :func:`vocab_uri`.
VOCAB_KINDS: Final[frozenset[str]] = frozenset(_KINDS)


def _build_lookup() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for kind, (names, uri_prefix, urn_prefix) in _KINDS.items():
        entries: dict[str, str] = {}
        for name in names:
            entries[name] = name
            entries[uri_prefix + name] = name
            if urn_prefix is not None:
                entries[urn_prefix + name] = name
        table[kind] = entries
    return table


_LOOKUP: Final = _build_lookup()


def _kind(kind: str) -> tuple[frozenset[str], str, str | None]:
    try:
        return _KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(_KINDS))
        raise ValueError(f"unknown vocabulary kind {kind!r}; expected one of {known}") from None


def vocab_short(kind: str, value: str) -> str | None:
    """The standard short name of ``value`` for vocabulary ``kind``, or None.

    ``value`` may be the short name, the CBV 2.0 Web URI or the CBV 1.x URN; anything that is not a
    standard value of that vocabulary (a user-defined URI, a misspelling) gives None.
    """
    _kind(kind)
    return _LOOKUP[kind].get(value)


def vocab_uri(kind: str, short: str) -> str:
    """The CBV 2.0 Web URI of a standard short name (``https://ref.gs1.org/cbv/BizStep-shipping``).

    Raises ValueError when ``short`` is not a standard value of ``kind``.
    """
    names, uri_prefix, _ = _kind(kind)
    if short not in names:
        raise ValueError(f"{short!r} is not a standard CBV {kind} value")
    return uri_prefix + short


def vocab_spellings(kind: str) -> dict[str, str]:
    """Every accepted spelling (short name, Web URI, URN) of the standard values of ``kind``,
    mapped to the CBV 2.0 Web URI."""
    uri_prefix = _kind(kind)[1]
    return {spelling: uri_prefix + short for spelling, short in _LOOKUP[kind].items()}


def vocab_expand(kind: str, value: str) -> str:
    """``value`` as a full URI: standard values in any spelling become the CBV 2.0 Web URI, any
    other value (already a user-defined URI) is returned unchanged."""
    short = vocab_short(kind, value)
    if short is None:
        return value
    return _KINDS[kind][1] + short
