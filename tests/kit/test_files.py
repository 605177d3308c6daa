import pytest

from txng.kit.files import IMAGE_TYPES, UploadError, check_upload, open_path, store

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64


def test_type_comes_from_content_not_name() -> None:
    checked = check_upload(PNG, original_name="photo.jpg", allowed=IMAGE_TYPES, max_bytes=1000)
    assert checked.content_type == "image/png"
    with pytest.raises(UploadError) as err:
        check_upload(b"MZ\x90\x00evil", original_name="a.png", allowed=IMAGE_TYPES, max_bytes=1000)
    assert err.value.code == "bad_type"


def test_size_limit_and_empty_file() -> None:
    with pytest.raises(UploadError) as err:
        check_upload(JPEG * 100, original_name="big.jpg", allowed=IMAGE_TYPES, max_bytes=1000)
    assert err.value.code == "too_large"
    with pytest.raises(UploadError) as err:
        check_upload(b"", original_name="x.jpg", allowed=IMAGE_TYPES, max_bytes=1000)
    assert err.value.code == "empty"


def test_stored_files_stay_inside_the_media_dir(tmp_path) -> None:
    checked = check_upload(JPEG, original_name="../../x.jpg", allowed=IMAGE_TYPES, max_bytes=1000)
    key = store(tmp_path, checked)
    assert open_path(tmp_path, key).read_bytes() == JPEG
    assert checked.original_name == "x.jpg"
    with pytest.raises(FileNotFoundError):
        open_path(tmp_path, "../../etc/passwd")
