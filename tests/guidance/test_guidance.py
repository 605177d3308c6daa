"""Guidance documents: the admin uploads, orders and publishes; the public sees only what is
published, in order, and downloads the very file that was uploaded."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import factories as f
from txng.accounts.roles import Principal, Role
from txng.audit import service as audit
from txng.errors import Forbidden, ValidationFailed
from txng.guidance import service
from txng.guidance.schemas import GuidanceIn
from txng.kit import i18n

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def vi(message: str) -> str:
    return i18n.gettext("vi", message)


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def _upload(db: Session, tmp_path: Path, title: str, *, data: bytes = PDF, **extra: object) -> int:
    doc = service.create_document(
        db,
        actor=f.ADMIN,
        data=GuidanceIn.model_validate({"title_vi": title, "category": "guide", **extra}),
        file_data=data,
        filename="tai-lieu.pdf",
        media_dir=tmp_path / "var" / "media",
        max_bytes=300_000,
    )
    return doc.id


def _signed_in(client: TestClient, db: Session, role: Role) -> None:
    user = f.user(db, role=role)
    db.commit()
    f.login(client, user.email)


def test_the_admin_uploads_and_publishes_and_the_public_downloads(
    client: TestClient, db_session: Session
) -> None:
    _signed_in(client, db_session, Role.PROVINCIAL_ADMIN)
    token = f.csrf_of(client, "/admin/huong-dan")

    created = client.post(
        "/admin/huong-dan",
        data={
            "csrf_token": token,
            "title_vi": "Hướng dẫn ghi nhật ký sản xuất",
            "title_en": "How to keep the production diary",
            "category": "guide",
            "position": "1",
        },
        files={"file": ("nhat-ky.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )

    assert created.status_code == 303, created.text
    admin_page = client.get("/admin/huong-dan").text
    assert "Hướng dẫn ghi nhật ký sản xuất" in admin_page
    assert vi("Not published") in admin_page
    public = TestClient(client.app)
    assert "Hướng dẫn ghi nhật ký sản xuất" not in public.get("/huong-dan").text
    [row] = service.all_documents(db_session, actor=f.ADMIN)
    doc_id = row.document.id
    assert public.get(f"/huong-dan/{doc_id}/tep").status_code == 404

    client.post(
        f"/admin/huong-dan/{doc_id}/cong-bo",
        data={"csrf_token": token, "published": "1"},
        follow_redirects=False,
    )

    page = public.get("/huong-dan")
    assert f'href="/huong-dan/{doc_id}/tep"' in page.text
    assert "Hướng dẫn ghi nhật ký sản xuất" in page.text
    assert vi("User guides") in page.text
    download = public.get(f"/huong-dan/{doc_id}/tep")
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    public.cookies.set("txng_lang", "en")
    assert "How to keep the production diary" in public.get("/huong-dan").text
    db_session.expire_all()
    actions = [
        e.action
        for e in audit.entries_for(db_session, entity_type="guidance_document", entity_id=doc_id)
    ]
    assert actions == ["guidance.created", "guidance.published"]

    client.post(
        f"/admin/huong-dan/{doc_id}/cong-bo",
        data={"csrf_token": token, "published": "0"},
        follow_redirects=False,
    )
    assert public.get(f"/huong-dan/{doc_id}/tep").status_code == 404


def test_the_upload_form_shows_errors_next_to_the_fields(
    client: TestClient, db_session: Session
) -> None:
    _signed_in(client, db_session, Role.PROVINCIAL_ADMIN)
    token = f.csrf_of(client, "/admin/huong-dan")

    no_title = client.post(
        "/admin/huong-dan",
        data={"csrf_token": token, "title_vi": "", "category": "guide", "position": "0"},
        files={"file": ("a.pdf", PDF, "application/pdf")},
    )
    assert no_title.status_code == 422
    assert 'id="e-title_vi"' in no_title.text

    bad_file = client.post(
        "/admin/huong-dan",
        data={"csrf_token": token, "title_vi": "Biểu mẫu", "category": "form", "position": "0"},
        files={"file": ("virus.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert bad_file.status_code == 422
    assert 'id="e-file"' in bad_file.text
    assert 'value="Biểu mẫu"' in bad_file.text  # the title typed is kept
    assert service.all_documents(db_session, actor=f.ADMIN) == []


def test_word_documents_and_images_are_accepted_and_ordered(
    client: TestClient, db_session: Session, tmp_path: Path
) -> None:
    word_file = docx()  # zip entries carry the time they were written: build it once
    later = _upload(db_session, tmp_path, "Tài liệu tập huấn phần 2", data=PNG, position=2)
    first = _upload(db_session, tmp_path, "Tài liệu tập huấn phần 1", data=word_file, position=1)
    for doc_id in (later, first):
        service.set_published(db_session, actor=f.ADMIN, document_id=doc_id, published=True)
    db_session.commit()

    text = client.get("/huong-dan").text

    assert text.index("phần 1") < text.index("phần 2")
    word = client.get(f"/huong-dan/{first}/tep")
    assert word.headers["content-type"] == service.DOCX
    assert word.content == word_file

    service.update_document(
        db_session,
        actor=f.ADMIN,
        document_id=first,
        data=GuidanceIn.model_validate(
            {"title_vi": "Tài liệu tập huấn phần 1", "category": "guide", "position": 3}
        ),
    )
    db_session.commit()
    text = client.get("/huong-dan").text
    assert text.index("phần 2") < text.index("phần 1")


def test_only_provincial_admins_manage_guidance(
    client: TestClient, db_session: Session, tmp_path: Path
) -> None:
    inspector = Principal(role=Role.INSPECTOR, label="thanh tra")
    with pytest.raises(Forbidden):
        service.all_documents(db_session, actor=inspector)
    with pytest.raises(Forbidden):
        service.create_document(
            db_session,
            actor=inspector,
            data=GuidanceIn.model_validate({"title_vi": "x", "category": "guide"}),
            file_data=PDF,
            filename="x.pdf",
            media_dir=tmp_path,
            max_bytes=300_000,
        )
    with pytest.raises(ValidationFailed):
        _upload(db_session, tmp_path, "Rỗng", data=b"")
    ent = f.enterprise(db_session)
    db_session.commit()
    f.login(client, ent.admin.email)
    assert client.get("/admin/huong-dan").status_code == 403
