"""Uploaded materials: checked (size, and the type sniffed from the content, not the name) and
stored (encrypted, in blob storage) in one place, for submissions, supplements and bundles."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import filetype
from flask import current_app

from ..core import blobs
from ..security.text import clean_filename

ALLOWED = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
}
EXTENSIONS = {"pdf": "pdf", "jpg": "jpg", "jpeg": "jpg", "png": "png"}
#: The allowed types' own signatures, tried first: `filetype.guess` tries some eighty kinds in turn,
#: scanning for ZIP-based documents before it reaches PDF; the full guess only names what a
#: refused file is.
_ALLOWED_MATCHERS = [filetype.get_type(ext=extension) for extension in ALLOWED]


@dataclass(frozen=True)
class Upload:
    material_code: str
    filename: str
    data: bytes

    def __post_init__(self):  # what is stored and shown: the name's last part, no invisible characters
        object.__setattr__(self, "filename", clean_filename(self.filename))


class UploadRefused(ValueError):
    def __init__(self, material_name: str, reason: str):
        super().__init__(f"{material_name}：{reason}")
        self.material_name, self.reason = material_name, reason


def check(material: dict, upload: Upload, default_max_mb: int) -> str:
    """Return the sniffed MIME type, or raise UploadRefused with the reason in Chinese."""
    name = material["name"]
    max_mb = material.get("max_mb", default_max_mb)
    if not upload.data:
        raise UploadRefused(name, "文件为空。")
    if len(upload.data) > max_mb * 1024 * 1024:
        raise UploadRefused(name, f"文件过大（{len(upload.data) / 1048576:.1f} MB），不能超过 {max_mb} MB。")
    allowed = material.get("types", list(ALLOWED))
    kind = filetype.match(upload.data, _ALLOWED_MATCHERS) or filetype.guess(upload.data)
    sniffed = kind.extension if kind else None
    sniffed = EXTENSIONS.get(sniffed, sniffed)
    if sniffed not in allowed:
        listed = "、".join(t.upper() for t in allowed)
        raise UploadRefused(name, f"文件类型不符合要求，只接受 {listed} 文件。")
    claimed = EXTENSIONS.get(upload.filename.rsplit(".", 1)[-1].lower()) if "." in upload.filename else None
    if claimed != sniffed:
        raise UploadRefused(name, f"文件扩展名与内容不符（内容是 {sniffed.upper()}）。")
    return ALLOWED[sniffed]


def check_each(
    materials: Mapping[str, dict], files: Iterable[Upload], unknown: Callable[[Upload], Exception]
) -> list[tuple[Upload, str]]:
    """Each upload checked against the material it is for (sizes up to `MAX_UPLOAD_MB` unless the
    material says otherwise), with its sniffed type; `unknown(upload)` is raised for an upload
    that names no material of `materials`."""
    limit = current_app.config["MAX_UPLOAD_MB"]
    checked = []
    for upload in files:
        material = materials.get(upload.material_code)
        if material is None:
            raise unknown(upload)
        checked.append((upload, check(material, upload, limit)))
    return checked


def store_each(checked: Iterable[tuple[Upload, str]]) -> list[tuple[Upload, str, str]]:
    """Each checked upload put in blob storage (the same file is stored once): (upload, type, key)."""
    store = blobs.store()
    return [(upload, content_type, store.put(upload.data)) for upload, content_type in checked]
