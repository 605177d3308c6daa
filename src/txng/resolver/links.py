"""The links that describe a resolved identifier, by GS1 link type, and the RFC 9264 linkset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlencode

from txng.errors import N_, NotFound
from txng.kit import i18n
from txng.resolver.service import Resolution

GS1_VOC: Final = "https://gs1.org/voc/"
LINKSET_TYPE: Final = "application/linkset+json"


class NoSuchLinkType(NotFound):
    type_slug = "no-such-link-type"
    default_message = N_("This identifier has no link of the requested type")


@dataclass(frozen=True)
class Link:
    rel: str  # compact GS1 link type, e.g. gs1:pip
    href: str
    title: str
    type: str


def links(resolution: Resolution, base_url: str) -> list[Link]:
    """Our own pages and APIs about the resolved thing, by GS1 link type."""
    link = resolution.link
    ident = quote(link.ident, safe="")
    out: list[Link] = []
    if resolution.product_id is not None:
        out.append(
            Link(
                "gs1:pip",
                f"{base_url}/san-pham/{resolution.product_id}",
                N_("Product information"),
                "text/html",
            )
        )
    if resolution.kind in ("lot", "item", "logistic_unit"):
        out.append(
            Link("gs1:traceability", f"{base_url}/trace?id={ident}", N_("Trace"), "text/html")
        )
        match = {"lot": "MATCH_epcClass", "item": "MATCH_epc"}.get(resolution.kind, "MATCH_anyEPC")
        out.append(
            Link(
                "gs1:epcis",
                f"{base_url}/epcis/events?{urlencode({match: link.ident})}",
                N_("EPCIS events"),
                "application/ld+json",
            )
        )
    if resolution.product_id is not None:
        tail = link.path
        out.append(
            Link(
                "gs1:certificationInfo",
                f"{base_url}/api/resolver/certification-info{tail}",
                N_("Certifications and standards"),
                "application/json",
            )
        )
        out.append(
            Link(
                "gs1:recallStatus",
                f"{base_url}/api/resolver/recall-status{tail}",
                N_("Recalled") if resolution.recalled else N_("Not recalled"),
                "application/json",
            )
        )
    if out:
        first = out[0]
        out.insert(0, Link("gs1:defaultLink", first.href, first.title, first.type))
    return out


def find_link(resolution: Resolution, base_url: str, link_type: str) -> Link:
    """The link of one type (compact ``gs1:epcis`` or full ``https://gs1.org/voc/epcis``)."""
    wanted = (
        "gs1:" + link_type.removeprefix(GS1_VOC) if link_type.startswith(GS1_VOC) else link_type
    )
    for candidate in links(resolution, base_url):
        if candidate.rel == wanted:
            return candidate
    raise NoSuchLinkType()


def linkset(
    resolution: Resolution, base_url: str, *, locale: str = i18n.DEFAULT_LOCALE
) -> dict[str, Any]:
    """The RFC 9264 linkset: anchor = the canonical Digital Link on our domain."""
    context: dict[str, Any] = {"anchor": base_url + resolution.link.path}
    for item in links(resolution, base_url):
        target = {
            "href": item.href,
            "title": i18n.gettext(locale, item.title),
            "type": item.type,
            "hreflang": [locale],
        }
        context.setdefault(GS1_VOC + item.rel.removeprefix("gs1:"), []).append(target)
    return {"linkset": [context]}


def description(base_url: str, name: str) -> dict[str, Any]:
    """The resolver description file served at ``/.well-known/gs1resolver``."""
    return {
        "name": name,
        "resolverRoot": base_url,
        "supportedPrimaryKeys": ["01", "00", "414"],
        "supportedLinkType": [
            {
                "namespace": GS1_VOC,
                "prefix": "gs1:",
                "profile": "https://gs1.org/voc/?show=linktypes",
            }
        ],
        "linkTypeDefaultCanBeLinkset": True,
        "supportedContextValuesEnumerated": [],
        "supportedContextValuesExternal": [],
    }
