"""Guidance documents: the provincial admin uploads, orders, publishes; the public downloads."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from txng.accounts.roles import Principal
from txng.audit import service as audit
from txng.errors import N_, Forbidden, NotFound, field_error
from txng.guidance import repository
from txng.guidance.schemas import GuidanceIn
from txng.kit import files
from txng.models import GuidanceDocument, StoredFile
from txng.models.base import utcnow
from txng.registry import service as registry_service

CATEGORY_LABELS = {
    "guide": N_("User guides"),
    "training": N_("Training materials"),
    "legal": N_("Legal documents"),
    "form": N_("Forms and templates"),
}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ALLOWED = {**files.DOCUMENT_TYPES, DOCX: ".docx"}
FIELDS = ("title_vi", "title_en", "description_vi", "description_en", "category", "position")


def _check_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise Forbidden()


def _docx(data: bytes, original_name: str, max_bytes: int) -> files.CheckedUpload | None:
    """A Word document: a ZIP holding ``word/document.xml`` (the file name is not trusted)."""
    if not data.startswith(b"PK\x03\x04") or len(data) > max_bytes:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "word/document.xml" not in archive.namelist():
                return None
    except zipfile.BadZipFile:
        return None
    return files.CheckedUpload(
        data=data,
        content_type=DOCX,
        extension=".docx",
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=Path(original_name or "upload").name[:255],
    )


def _checked(data: bytes, filename: str, max_bytes: int) -> files.CheckedUpload:
    docx = _docx(data, filename, max_bytes)
    if docx is not None:
        return docx
    try:
        return files.check_upload(
            data, original_name=filename, allowed=ALLOWED, max_bytes=max_bytes
        )
    except files.UploadError as exc:
        raise field_error("/file", exc.msgid, exc.code, **exc.params) from exc


def create_document(
    session: Session,
    *,
    actor: Principal,
    data: GuidanceIn,
    file_data: bytes,
    filename: str,
    media_dir: Path,
    max_bytes: int,
) -> GuidanceDocument:
    """Upload a document (PDF, DOCX or image); it stays unpublished until published."""
    _check_admin(actor)
    upload = _checked(file_data, filename, max_bytes)
    stored = registry_service.store_file(
        session, media_dir=media_dir, organisation_id=None, purpose="guidance", upload=upload
    )
    doc = GuidanceDocument(
        **data.model_dump(), file_id=stored.id, published=False, created_by_user_id=actor.user_id
    )
    repository.add(session, doc)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="guidance.created",
        entity_type="guidance_document",
        entity_id=doc.id,
        after={**audit.snapshot(doc, FIELDS), "sha256": stored.sha256},
    )
    return doc


def get_document(session: Session, *, actor: Principal, document_id: int) -> GuidanceDocument:
    _check_admin(actor)
    doc = repository.document(session, document_id)
    if doc is None:
        raise NotFound()
    return doc


def update_document(
    session: Session, *, actor: Principal, document_id: int, data: GuidanceIn
) -> GuidanceDocument:
    """Change the titles, category or order of a document."""
    doc = get_document(session, actor=actor, document_id=document_id)
    before = audit.snapshot(doc, FIELDS)
    for name, value in data.model_dump().items():
        setattr(doc, name, value)
    session.flush()
    after = audit.snapshot(doc, FIELDS)
    audit.record(
        session,
        actor=actor,
        action="guidance.updated",
        entity_type="guidance_document",
        entity_id=doc.id,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return doc


def set_published(
    session: Session, *, actor: Principal, document_id: int, published: bool
) -> GuidanceDocument:
    """Show the document on the public guidance page, or take it off."""
    doc = get_document(session, actor=actor, document_id=document_id)
    before = doc.published
    doc.published = published
    if published and not before:
        doc.published_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="guidance.published" if published else "guidance.unpublished",
        entity_type="guidance_document",
        entity_id=doc.id,
        before={"published": before},
        after={"published": published},
    )
    return doc


@dataclass(frozen=True)
class Listed:
    document: GuidanceDocument
    file: StoredFile | None


def _listed(session: Session, docs: list[GuidanceDocument]) -> list[Listed]:
    stored = repository.files_of(session, [d.file_id for d in docs])
    return [Listed(d, stored.get(d.file_id)) for d in docs]


def all_documents(session: Session, *, actor: Principal) -> list[Listed]:
    """Every document, published or not, for the admin's management page."""
    _check_admin(actor)
    return _listed(session, repository.documents(session, published_only=False))


def public_documents(session: Session) -> dict[str, list[Listed]]:
    """Published documents by category (in the order of CATEGORY_LABELS), each by position."""
    grouped: dict[str, list[Listed]] = {c: [] for c in CATEGORY_LABELS}
    for row in _listed(session, repository.documents(session, published_only=True)):
        grouped.setdefault(row.document.category, []).append(row)
    return {c: rows for c, rows in grouped.items() if rows}


def public_file(session: Session, *, document_id: int) -> tuple[GuidanceDocument, StoredFile]:
    """The file of a published document; 404 otherwise."""
    doc = repository.document(session, document_id)
    if doc is None or not doc.published:
        raise NotFound()
    stored = repository.stored_file(session, doc.file_id)
    if stored is None:
        raise NotFound()
    return doc, stored


def admin_file(
    session: Session, *, actor: Principal, document_id: int
) -> tuple[GuidanceDocument, StoredFile]:
    """The file of any document, for the admin to check it before publishing."""
    doc = get_document(session, actor=actor, document_id=document_id)
    stored = repository.stored_file(session, doc.file_id)
    if stored is None:
        raise NotFound()
    return doc, stored
