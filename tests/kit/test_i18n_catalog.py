"""The Vietnamese catalog covers every message in the source and keeps its placeholders."""

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from txng.kit import i18n

ROOT = Path(__file__).parents[2]
VI_PO_NAME = "src/txng/locale/vi/LC_MESSAGES/messages.po"
VI_PO = ROOT / VI_PO_NAME
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _source_msgids() -> set[str]:
    """Message ids extracted as ``pybabel extract -F babel.cfg -k N_`` would extract them."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    msgids: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            msgids.add(msgid)
    return msgids


def _vi_catalog() -> Catalog:
    with VI_PO.open("rb") as fh:
        return read_po(fh, locale="vi")


def test_every_source_message_has_a_vietnamese_translation() -> None:
    msgids = _source_msgids()
    assert len(msgids) > 100, "extraction found too few messages: check babel.cfg"
    catalog = _vi_catalog()
    missing = []
    for msgid in sorted(msgids):
        message = catalog.get(msgid)
        strings = message.string if message else None
        if isinstance(strings, tuple | list):
            translated = bool(strings) and all(strings)
        else:
            translated = bool(strings)
        if message is None or not translated or message.fuzzy:
            missing.append(msgid)
    assert not missing, (
        f"{len(missing)} message(s) without a Vietnamese translation in {VI_PO_NAME}"
        " (run pybabel extract and update, see docs/i18n.md):\n  " + "\n  ".join(missing)
    )


def test_vietnamese_translations_keep_the_placeholders() -> None:
    wrong = []
    for message in _vi_catalog():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = {name for msgid in ids for name in PLACEHOLDER.findall(msgid)}
        for string in strings:
            found = set(PLACEHOLDER.findall(string))
            if found != expected:
                wrong.append(f"{ids[0]!r}: expected {sorted(expected)}, found {sorted(found)}")
    assert not wrong, "placeholders differ from the msgid:\n  " + "\n  ".join(wrong)


def test_gettext_translates_to_vietnamese_and_falls_back_to_english_msgids() -> None:
    assert i18n.gettext("vi", "Sign in") == "Đăng nhập"
    assert i18n.gettext("en", "Sign in") == "Sign in"
    assert i18n.gettext("vi", "%(province)s province", {"province": "Bắc Ninh"}) == "Tỉnh Bắc Ninh"
