"""Demo data for a province demo: the merged Bắc Ninh province (code "24") after the 2025 reform.

Everything goes through the registry and accounts services, so the demo obeys the same checks
(tax codes, GS1 keys, communes) and leaves the same audit trail as real data. Organisations,
people, addresses and certificate numbers are invented; commune codes, tax-code and GS1
check digits, standards (TCVN/QCVN) and geographical indications are real.

``load_demo`` runs inside the caller's transaction on an empty database and never commits. It ends
with the diary history of :mod:`txng.demo.events`: a lychee lot and a Mì Chũ lot that the trace
follows from the field to the supermarket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from txng.accounts import service as accounts_service
from txng.accounts.roles import Principal, Role, Sector
from txng.kit.adminunits import admin_units
from txng.kit.gs1 import with_check_digit
from txng.kit.i18n import today_local
from txng.kit.taxcode import make_tax_code
from txng.models import Organisation
from txng.registry import service as registry_service
from txng.registry.schemas import (
    CategoryIn,
    CertificationIn,
    CertificationScheme,
    FacilityIn,
    FacilityKind,
    OrganisationIn,
    OrganisationKind,
    ProductIn,
)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    full_name: str
    organisation: str | None


@dataclass(frozen=True)
class DemoResult:
    logins: list[DemoLogin]
    api_keys: list[tuple[str, str]]  # (organisation name, full API key shown once)
    stamp_path: str = ""  # Digital Link path of one activated demo stamp (/01/…/21/…)


PROVINCE = "24"  # Tỉnh Bắc Ninh (merged with Bắc Giang in 2025)

# GSO commune codes after the 2025 reform, checked against txng.kit.adminunits.
LUC_NGAN = "07582"  # Xã Lục Ngạn
CHU = "07525"  # Phường Chũ
PHUONG_SON = "07612"  # Phường Phượng Sơn
NAM_DUONG = "07603"  # Xã Nam Dương
YEN_THE = "07288"  # Xã Yên Thế
BAC_GIANG = "07210"  # Phường Bắc Giang
KINH_BAC = "09187"  # Phường Kinh Bắc

# The demo loader acts as the provincial administrator where a service needs a caller.
LOADER = Principal(role=Role.PROVINCIAL_ADMIN, label="demo loader")

PASSWORD_PREFIX = "demo-2026-"  # noqa: S105 - demo passwords, printed by `txng demo`

# code, name_vi, name_en, sector, is_priority, is_mandatory, retention_months
CATEGORIES: tuple[tuple[str, str, str, Sector, bool, bool, int], ...] = (
    ("fresh-fruit", "Trái cây tươi", "Fresh fruit", Sector.AGRICULTURE, True, False, 24),
    ("poultry-meat", "Thịt gia cầm", "Poultry meat", Sector.AGRICULTURE, True, True, 24),
    ("rice", "Gạo", "Rice", Sector.AGRICULTURE, True, False, 24),
    ("vegetables", "Rau, củ tươi", "Fresh vegetables", Sector.AGRICULTURE, True, False, 12),
    ("tea", "Chè (trà)", "Tea", Sector.AGRICULTURE, False, False, 36),
    ("honey", "Mật ong", "Honey", Sector.AGRICULTURE, False, False, 36),
    (
        "noodles",
        "Mì, bún, phở khô",
        "Dried noodles",
        Sector.INDUSTRY_TRADE,
        True,
        False,
        24,
    ),
    (
        "health-supplements",
        "Thực phẩm bảo vệ sức khỏe",
        "Health supplements",
        Sector.HEALTH,
        True,
        True,
        36,
    ),
)


# small builders ------------------------------------------------------------------------------


def _gs1(company_prefix: str, reference: str) -> str:
    """A 13-digit GTIN or GLN: company prefix + reference + check digit."""
    key = with_check_digit(company_prefix + reference)
    if len(key) != 13:
        raise ValueError(f"not a 13-digit GS1 key: {key}")
    return key


def _near(commune_code: str, dlat: float, dlon: float) -> tuple[float, float]:
    """A point offset from the commune's centre (degrees; 0.01° is about 1.1 km)."""
    commune = admin_units().communes[commune_code]
    if commune.latitude is None or commune.longitude is None:
        raise ValueError(f"commune {commune_code} has no coordinates")
    return round(commune.latitude + dlat, 6), round(commune.longitude + dlon, 6)


def _register(session: Session, data: OrganisationIn) -> Organisation:
    return registry_service.register_organisation(session, actor=None, data=data)


def _facility(session: Session, org: Organisation, data: FacilityIn) -> None:
    registry_service.create_facility(session, actor=LOADER, organisation_id=org.id, data=data)


def _product(session: Session, org: Organisation, data: ProductIn) -> None:
    registry_service.create_product(session, actor=LOADER, organisation_id=org.id, data=data)


def _load_categories(session: Session) -> None:
    for code, name_vi, name_en, sector, priority, mandatory, months in CATEGORIES:
        registry_service.create_category(
            session,
            actor=None,
            data=CategoryIn(
                code=code,
                name_vi=name_vi,
                name_en=name_en,
                sector=sector,
                is_priority=priority,
                is_mandatory=mandatory,
                retention_months=months,
            ),
        )


# (1) the lychee cooperative in Xã Lục Ngạn -----------------------------------------------------

COOP_PREFIX = "89360458"


def _lychee_cooperative(session: Session, today: date) -> Organisation:
    org = _register(
        session,
        OrganisationIn(
            kind=OrganisationKind.COOPERATIVE,
            name="Hợp tác xã Vải thiều Lục Ngạn",
            name_en="Luc Ngan Lychee Cooperative",
            tax_code=make_tax_code("240045871"),
            gs1_company_prefix=COOP_PREFIX,
            gln=_gs1(COOP_PREFIX, "0001"),
            sector=Sector.AGRICULTURE,
            province_code=PROVINCE,
            commune_code=LUC_NGAN,
            street_address="Thôn Đồng Cống",
            contact_name="Nguyễn Văn Thắng",
            phone="0204 3882 516",
            email="lienhe.htxvaithieu@txng.demo",
        ),
    )
    for name, code, gln_ref, hectares, (dlat, dlon) in (
        ("Vùng trồng vải thiều Đồi Cao", "VN-BNOR-0112", "0036", "18.5", (0.0073, -0.0068)),
        ("Vùng trồng vải thiều Khe Đá", "VN-BNOR-0113", "0043", "12.3", (-0.0069, 0.0125)),
    ):
        lat, lon = _near(LUC_NGAN, dlat, dlon)
        _facility(
            session,
            org,
            FacilityIn(
                kind=FacilityKind.GROWING_AREA,
                name=name,
                gln=_gs1(COOP_PREFIX, gln_ref),
                location_code=code,
                growing_area_code=code,
                area_hectares=Decimal(hectares),
                province_code=PROVINCE,
                commune_code=LUC_NGAN,
                latitude=lat,
                longitude=lon,
            ),
        )
    _product(session, org, _fresh_lychee(today))
    _product(session, org, _lychee_honey())
    _product(session, org, _bulk_lychee(today))
    return org


def _vietgap(number: str, today: date) -> CertificationIn:
    return CertificationIn(
        scheme=CertificationScheme.VIETGAP,
        number=number,
        issuer="Trung tâm Chứng nhận Phù hợp (QUACERT)",
        valid_from=today - timedelta(days=300),
        valid_to=today + timedelta(days=430),
    )


def _fresh_lychee(today: date) -> ProductIn:
    return ProductIn(
        gtin=_gs1(COOP_PREFIX, "0012"),
        name_vi="Vải thiều Lục Ngạn tươi – hộp 2 kg",
        name_en="Fresh Luc Ngan lychee – 2 kg box",
        description_vi=(
            "Vải thiều chín cây, thu hái buổi sáng tại vùng trồng đạt VietGAP của hợp tác xã, "
            "sơ chế và đóng hộp trong ngày. Quả to, vỏ đỏ tươi, cùi dày, hạt nhỏ."
        ),
        description_en=(
            "Tree-ripened lychee picked in the morning from the cooperative's VietGAP-certified "
            "growing areas and packed the same day. Large fruit, bright red skin, thick flesh."
        ),
        brand="Vải thiều Lục Ngạn",
        category_code="fresh-fruit",
        net_content=Decimal("2"),
        net_content_unit="kg",
        shelf_life_days=7,
        standards=["TCVN 11892-1:2017", "QCVN 8-2:2011/BYT"],
        geographical_indication="Vải thiều Lục Ngạn",
        certifications=[_vietgap("VietGAP-TT-19-02-24-0158", today)],
    )


LYCHEE_BULK_GTIN = _gs1(COOP_PREFIX, "0050")  # harvested by the kilogram (the diary's lots)


def _bulk_lychee(today: date) -> ProductIn:
    return ProductIn(
        gtin=LYCHEE_BULK_GTIN,
        name_vi="Vải thiều tươi Lục Ngạn – hàng xá",
        name_en="Fresh Luc Ngan lychee – loose, by the kilogram",
        description_vi=(
            "Vải thiều thu hái tại vùng trồng của hợp tác xã, bán xá theo ki-lô-gam cho cơ sở "
            "sơ chế, đóng gói; mỗi lần thu hoạch là một lô."
        ),
        description_en=(
            "Lychee picked in the cooperative's growing areas and sold loose by the kilogram "
            "to packing houses; each harvest is a lot."
        ),
        brand="Vải thiều Lục Ngạn",
        category_code="fresh-fruit",
        shelf_life_days=5,
        standards=["TCVN 11892-1:2017"],
        geographical_indication="Vải thiều Lục Ngạn",
        certifications=[_vietgap("VietGAP-TT-19-02-24-0158", today)],
    )


def _lychee_honey() -> ProductIn:
    return ProductIn(
        gtin=_gs1(COOP_PREFIX, "0029"),
        name_vi="Mật ong hoa vải Lục Ngạn – chai 500 ml",
        name_en="Luc Ngan lychee-blossom honey – 500 ml bottle",
        description_vi=(
            "Mật ong nguyên chất từ đàn ong nuôi trong vườn vải của xã viên vào mùa hoa "
            "tháng Hai, tháng Ba; màu vàng sáng, thơm mùi hoa vải."
        ),
        description_en=(
            "Pure honey from hives kept in members' lychee orchards during the February–March "
            "blossom; light golden with the scent of lychee flowers."
        ),
        brand="Vải thiều Lục Ngạn",
        category_code="honey",
        net_content=Decimal("500"),
        net_content_unit="ml",
        shelf_life_days=730,
        standards=["TCVN 5267-1:2008"],
    )


# (2) the hill-chicken farm in Xã Yên Thế ------------------------------------------------------

FARM_PREFIX = "89360462"


def _chicken_farm(session: Session) -> Organisation:
    org = _register(
        session,
        OrganisationIn(
            kind=OrganisationKind.HOUSEHOLD_BUSINESS,
            name="Hộ kinh doanh Trang trại gà đồi Thành Hưng",
            name_en="Thanh Hung Hill Chicken Farm",
            tax_code=make_tax_code("240162738"),
            gs1_company_prefix=FARM_PREFIX,
            gln=_gs1(FARM_PREFIX, "0001"),
            sector=Sector.AGRICULTURE,
            province_code=PROVINCE,
            commune_code=YEN_THE,
            street_address="Bản Đồng Giang",
            contact_name="Hoàng Văn Hưng",
            phone="0912 483 057",
            email="gadoithanhhung@txng.demo",
        ),
    )
    lat, lon = _near(YEN_THE, 0.0112, -0.0084)
    _facility(
        session,
        org,
        FacilityIn(
            kind=FacilityKind.FARM,
            name="Trang trại gà đồi Thành Hưng – khu đồi chăn thả",
            gln=_gs1(FARM_PREFIX, "0018"),
            area_hectares=Decimal("4.2"),
            province_code=PROVINCE,
            commune_code=YEN_THE,
            street_address="Bản Đồng Giang",
            latitude=lat,
            longitude=lon,
        ),
    )
    _product(session, org, _hill_chicken())
    return org


def _hill_chicken() -> ProductIn:
    return ProductIn(
        gtin=_gs1(FARM_PREFIX, "0106"),
        name_vi="Gà đồi Yên Thế nguyên con làm sẵn",
        name_en="Yen The hill chicken, whole, dressed",
        description_vi=(
            "Gà ri lai thả đồi trên 120 ngày tuổi, giết mổ tại cơ sở được cấp phép, làm sạch và "
            "bảo quản lạnh 0–4 °C. Mỗi con nặng khoảng 1,6–2,0 kg."
        ),
        description_en=(
            "Free-range crossbred Ri chicken raised on the hills for over 120 days, slaughtered "
            "at a licensed abattoir and kept chilled at 0–4 °C. About 1.6–2.0 kg each."
        ),
        brand="Gà đồi Yên Thế",
        category_code="poultry-meat",
        net_content=Decimal("1"),
        net_content_unit="pcs",
        shelf_life_days=5,
        standards=["TCVN 7046:2019", "QCVN 8-3:2012/BYT"],
        geographical_indication="Gà đồi Yên Thế",
    )


# (3) the Chũ rice-noodle producer -----------------------------------------------------------

NOODLE_PREFIX = "89360475"


def _noodle_maker(session: Session) -> Organisation:
    org = _register(
        session,
        OrganisationIn(
            kind=OrganisationKind.ENTERPRISE,
            name="Công ty TNHH Mì gạo Chũ Việt",
            name_en="Chu Viet Rice Noodle Co., Ltd.",
            tax_code=make_tax_code("240118254"),
            gs1_company_prefix=NOODLE_PREFIX,
            gln=_gs1(NOODLE_PREFIX, "0001"),
            sector=Sector.INDUSTRY_TRADE,
            province_code=PROVINCE,
            commune_code=CHU,
            street_address="Tổ dân phố Nam Tiến",
            contact_name="Trần Thị Hoa",
            phone="0204 3885 274",
            email="kinhdoanh.michuviet@txng.demo",
        ),
    )
    lat, lon = _near(CHU, -0.0046, 0.0052)
    _facility(
        session,
        org,
        FacilityIn(
            kind=FacilityKind.FACTORY,
            name="Xưởng sản xuất mì gạo Chũ Việt",
            gln=_gs1(NOODLE_PREFIX, "0025"),
            area_hectares=Decimal("0.35"),
            province_code=PROVINCE,
            commune_code=CHU,
            street_address="Tổ dân phố Nam Tiến",
            latitude=lat,
            longitude=lon,
        ),
    )
    _product(session, org, _mi_chu())
    _product(session, org, _mi_chu_brown_rice())
    return org


NOODLE_STANDARDS = ["TCCS 01:2024/CV", "QCVN 8-1:2011/BYT", "QCVN 8-2:2011/BYT"]


MI_CHU_GTIN = _gs1(NOODLE_PREFIX, "1013")


def _mi_chu() -> ProductIn:
    return ProductIn(
        gtin=MI_CHU_GTIN,
        name_vi="Mì Chũ – gói 500 g",
        name_en="Chu rice noodles – 500 g pack",
        description_vi=(
            "Mì gạo làm từ gạo bao thai hồng, tráng và phơi nắng theo cách truyền thống của "
            "vùng Chũ, không chất tẩy trắng, không hàn the. Sản phẩm OCOP 4 sao."
        ),
        description_en=(
            "Rice noodles made from Bao Thai Hong rice, steamed and sun-dried the traditional "
            "Chu way, with no bleach or borax. A 4-star OCOP product."
        ),
        brand="Chũ Việt",
        category_code="noodles",
        net_content=Decimal("500"),
        net_content_unit="g",
        shelf_life_days=180,
        standards=NOODLE_STANDARDS,
        ocop_stars=4,
    )


def _mi_chu_brown_rice() -> ProductIn:
    return ProductIn(
        gtin=_gs1(NOODLE_PREFIX, "1020"),
        name_vi="Mì Chũ gạo lứt – gói 500 g",
        name_en="Chu brown-rice noodles – 500 g pack",
        description_vi="Mì gạo lứt đỏ phơi nắng, sợi dai, giàu chất xơ.",
        description_en="Sun-dried red brown-rice noodles: chewy and rich in fibre.",
        brand="Chũ Việt",
        category_code="noodles",
        net_content=Decimal("500"),
        net_content_unit="g",
        shelf_life_days=180,
        standards=NOODLE_STANDARDS,
    )


# (4)–(6) the packing house, the distributor and the supermarket ------------------------------


def _trader(
    session: Session,
    org_data: OrganisationIn,
    kind: FacilityKind,
    facility_name: str,
    offset: tuple[float, float],
) -> Organisation:
    """An organisation with one facility that has a GLN of its own (…0017)."""
    org = _register(session, org_data)
    prefix = org_data.gs1_company_prefix or ""
    lat, lon = _near(org_data.commune_code, *offset)
    _facility(
        session,
        org,
        FacilityIn(
            kind=kind,
            name=facility_name,
            gln=_gs1(prefix, "0017"),
            province_code=PROVINCE,
            commune_code=org_data.commune_code,
            street_address=org_data.street_address,
            latitude=lat,
            longitude=lon,
        ),
    )
    return org


def _enterprise(
    name: str,
    name_en: str,
    tax_stem: str,
    prefix: str,
    sector: Sector,
    commune_code: str,
    street_address: str,
    contact: tuple[str, str, str],
) -> OrganisationIn:
    contact_name, phone, email = contact
    return OrganisationIn(
        kind=OrganisationKind.ENTERPRISE,
        name=name,
        name_en=name_en,
        tax_code=make_tax_code(tax_stem),
        gs1_company_prefix=prefix,
        gln=_gs1(prefix, "0001"),
        sector=sector,
        province_code=PROVINCE,
        commune_code=commune_code,
        street_address=street_address,
        contact_name=contact_name,
        phone=phone,
        email=email,
    )


PACKING_PREFIX = "89360481"


def _packing_house(session: Session) -> Organisation:
    data = _enterprise(
        "Công ty TNHH Sơ chế và Đóng gói Nông sản Phượng Sơn",
        "Phuong Son Produce Packing Co., Ltd.",
        "240173069",
        PACKING_PREFIX,
        Sector.AGRICULTURE,
        PHUONG_SON,
        "Số 86, Quốc lộ 31",
        ("Lương Văn Đức", "0204 3892 118", "donggoi.phuongson@txng.demo"),
    )
    org = _trader(
        session,
        data,
        FacilityKind.PACKING_HOUSE,
        "Cơ sở sơ chế, đóng gói vải thiều Phượng Sơn",
        (0.0031, -0.0042),
    )
    _product(session, org, _lychee_carton())
    return org


LYCHEE_CARTON_GTIN = _gs1(PACKING_PREFIX, "0024")


def _lychee_carton() -> ProductIn:
    return ProductIn(
        gtin=LYCHEE_CARTON_GTIN,
        name_vi="Thùng vải thiều Lục Ngạn loại 1 – 5 kg",
        name_en="Luc Ngan lychee, class I – 5 kg carton",
        description_vi=(
            "Vải thiều Lục Ngạn tuyển chọn loại 1, cắt cuống, rửa sạch, làm lạnh nhanh và "
            "đóng thùng carton 5 kg có lót lá vải; bảo quản 2–5 °C."
        ),
        description_en=(
            "Selected class I Luc Ngan lychee, stems trimmed, washed, pre-cooled and packed in "
            "5 kg cartons lined with lychee leaves; kept at 2–5 °C."
        ),
        brand="Phượng Sơn",
        category_code="fresh-fruit",
        net_content=Decimal("5"),
        net_content_unit="kg",
        shelf_life_days=10,
        standards=["TCVN 11892-1:2017", "QCVN 8-2:2011/BYT"],
        geographical_indication="Vải thiều Lục Ngạn",
    )


def _distributor(session: Session) -> Organisation:
    data = _enterprise(
        "Công ty Cổ phần Phân phối Thực phẩm Bắc Giang Xanh",
        "Bac Giang Xanh Food Distribution JSC",
        "240155412",
        "89360493",
        Sector.INDUSTRY_TRADE,
        BAC_GIANG,
        "Lô C4, đường Hoàng Văn Thụ",
        ("Phạm Minh Tuấn", "0204 3856 739", "phanphoi.bacgiangxanh@txng.demo"),
    )
    return _trader(
        session,
        data,
        FacilityKind.WAREHOUSE,
        "Kho lạnh Bắc Giang Xanh",
        (-0.0058, 0.0047),
    )


def _supermarket(session: Session) -> Organisation:
    data = _enterprise(
        "Công ty TNHH Siêu thị Kinh Bắc Mart",
        "Kinh Bac Mart Supermarket Co., Ltd.",
        "230124587",
        "89360507",
        Sector.INDUSTRY_TRADE,
        KINH_BAC,
        "Số 128 đường Ngô Gia Tự",
        ("Đỗ Thu Trang", "0222 3826 450", "cskh.kinhbacmart@txng.demo"),
    )
    return _trader(
        session,
        data,
        FacilityKind.SHOP,
        "Siêu thị Kinh Bắc Mart – Ngô Gia Tự",
        (0.0021, 0.0016),
    )


# (7) the rice cooperative in Xã Nam Dương, which supplies the noodle maker ---------------------

RICE_PREFIX = "89360519"
RICE_GTIN = _gs1(RICE_PREFIX, "0015")


def _rice_cooperative(session: Session) -> Organisation:
    org = _register(
        session,
        OrganisationIn(
            kind=OrganisationKind.COOPERATIVE,
            name="Hợp tác xã Nông nghiệp Bao thai hồng Nam Dương",
            name_en="Nam Duong Bao Thai Hong Rice Cooperative",
            tax_code=make_tax_code("240187356"),
            gs1_company_prefix=RICE_PREFIX,
            gln=_gs1(RICE_PREFIX, "0001"),
            sector=Sector.AGRICULTURE,
            province_code=PROVINCE,
            commune_code=NAM_DUONG,
            street_address="Thôn Thượng",
            contact_name="Giáp Văn Bình",
            phone="0204 3884 162",
            email="htx.namduong@txng.demo",
        ),
    )
    lat, lon = _near(NAM_DUONG, -0.0052, 0.0061)
    _facility(
        session,
        org,
        FacilityIn(
            kind=FacilityKind.FARM,
            name="Cánh đồng lúa Bao thai hồng Nam Dương",
            gln=_gs1(RICE_PREFIX, "0018"),
            area_hectares=Decimal("32"),
            province_code=PROVINCE,
            commune_code=NAM_DUONG,
            street_address="Cánh đồng Thôn Thượng",
            latitude=lat,
            longitude=lon,
        ),
    )
    _product(session, org, _rice())
    return org


def _rice() -> ProductIn:
    return ProductIn(
        gtin=RICE_GTIN,
        name_vi="Gạo Bao thai hồng Nam Dương – bao 50 kg",
        name_en="Nam Duong Bao Thai Hong rice – 50 kg sack",
        description_vi=(
            "Gạo Bao thai hồng vụ mùa, xay xát tại hợp tác xã; hạt nhỏ, cơm khô, "
            "là nguyên liệu truyền thống để làm mì Chũ."
        ),
        description_en=(
            "Bao Thai Hong rice of the main (autumn) crop, milled at the cooperative: small, dry "
            "grains, the traditional raw material of Chu noodles."
        ),
        brand="Bao thai hồng Nam Dương",
        category_code="rice",
        net_content=Decimal("50"),
        net_content_unit="kg",
        shelf_life_days=365,
        standards=["TCVN 11888:2017"],
    )


# people and API keys --------------------------------------------------------------------------

# slug (the password is "demo-2026-<slug>"), role, e-mail, full name, sector, communes
AUTHORITY_USERS: tuple[tuple[str, Role, str, str, Sector | None, tuple[str, ...]], ...] = (
    ("admin", Role.SYSTEM_ADMIN, "admin@txng.demo", "Nguyễn Quốc Khánh", None, ()),
    ("tinh", Role.PROVINCIAL_ADMIN, "sokhcn@txng.demo", "Lê Thị Thu Hà", None, ()),
    (
        "nongnghiep",
        Role.SECTOR_REVIEWER,
        "nongnghiep@txng.demo",
        "Vũ Đình Nam",
        Sector.AGRICULTURE,
        (),
    ),
    (
        "congthuong",
        Role.SECTOR_REVIEWER,
        "congthuong@txng.demo",
        "Ngô Thị Lan Anh",
        Sector.INDUSTRY_TRADE,
        (),
    ),
    ("yte", Role.SECTOR_REVIEWER, "yte@txng.demo", "Đặng Văn Phúc", Sector.HEALTH, ()),
    (
        "xa",
        Role.COMMUNE_OFFICER,
        "xa.lucngan@txng.demo",
        "Hà Văn Lực",
        None,
        (LUC_NGAN, CHU),
    ),
    ("thanhtra", Role.INSPECTOR, "thanhtra@txng.demo", "Bùi Thanh Sơn", None, ()),
)

# slug, role, e-mail, full name, organisation key (see ``load_demo``)
ENTERPRISE_USERS: tuple[tuple[str, Role, str, str, str], ...] = (
    ("vaithieu", Role.ENTERPRISE_ADMIN, "hoptacxa.vaithieu@txng.demo", "Nguyễn Văn Thắng", "coop"),
    (
        "nhanvien",
        Role.ENTERPRISE_STAFF,
        "nhanvien.vaithieu@txng.demo",
        "Thân Thị Mai",
        "coop",
    ),
    ("gadoi", Role.ENTERPRISE_ADMIN, "gadoi.yenthe@txng.demo", "Hoàng Văn Hưng", "farm"),
    ("michu", Role.ENTERPRISE_ADMIN, "michu@txng.demo", "Trần Thị Hoa", "noodles"),
    ("donggoi", Role.ENTERPRISE_ADMIN, "donggoi@txng.demo", "Lương Văn Đức", "packing"),
    ("phanphoi", Role.ENTERPRISE_ADMIN, "phanphoi@txng.demo", "Phạm Minh Tuấn", "distributor"),
    ("sieuthi", Role.ENTERPRISE_ADMIN, "sieuthi@txng.demo", "Đỗ Thu Trang", "shop"),
    ("namduong", Role.ENTERPRISE_ADMIN, "lua.namduong@txng.demo", "Giáp Văn Bình", "rice"),
)


def _user(
    session: Session,
    *,
    slug: str,
    role: Role,
    email: str,
    full_name: str,
    sector: Sector | None = None,
    communes: tuple[str, ...] = (),
    org: Organisation | None = None,
) -> DemoLogin:
    password = PASSWORD_PREFIX + slug
    accounts_service.create_user(
        session,
        actor=None,
        email=email,
        full_name=full_name,
        password=password,
        role=role,
        organisation_id=org.id if org else None,
        sector=sector,
        communes=communes,
    )
    return DemoLogin(
        role=role.value,
        email=email,
        password=password,
        full_name=full_name,
        organisation=org.name if org else None,
    )


def _users(session: Session, orgs: dict[str, Organisation]) -> list[DemoLogin]:
    logins = [
        _user(
            session,
            slug=slug,
            role=role,
            email=email,
            full_name=full_name,
            sector=sector,
            communes=communes,
        )
        for slug, role, email, full_name, sector, communes in AUTHORITY_USERS
    ]
    logins += [
        _user(session, slug=slug, role=role, email=email, full_name=name, org=orgs[key])
        for slug, role, email, name, key in ENTERPRISE_USERS
    ]
    return logins


def _api_keys(session: Session, orgs: dict[str, Organisation]) -> list[tuple[str, str]]:
    keys = []
    for org in orgs.values():
        _, full = accounts_service.create_api_key(
            session, actor=None, organisation_id=org.id, name="Demo key"
        )
        keys.append((org.name, full))
    return keys


def load_demo(session: Session, *, today: date | None = None) -> DemoResult:
    """Fill an empty database with the Bắc Ninh demo; the caller commits."""
    today = today or today_local()
    _load_categories(session)
    orgs = {
        "coop": _lychee_cooperative(session, today),
        "farm": _chicken_farm(session),
        "noodles": _noodle_maker(session),
        "packing": _packing_house(session),
        "distributor": _distributor(session),
        "shop": _supermarket(session),
        "rice": _rice_cooperative(session),
    }
    result = DemoResult(logins=_users(session, orgs), api_keys=_api_keys(session, orgs))
    from txng.demo.events import load_demo_events  # events.py builds on this module

    load_demo_events(session, orgs, today)
    from txng.demo.review import review_everything

    review_everything(session)
    from txng.demo.stamps import load_demo_stamps  # stamps build on the reviewed demo

    stamp_path = load_demo_stamps(session, today)
    return DemoResult(logins=result.logins, api_keys=result.api_keys, stamp_path=stamp_path)
