"""Checking uploaded materials: size, and the type sniffed from the content, not the name."""

from __future__ import annotations

from dataclasses import dataclass

import filetype

from ..security.text import clean_filename

ALLOWED = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
}
EXTENSIONS = {"pdf": "pdf", "jpg": "jpg", "jpeg": "jpg", "png": "png"}


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
    kind = filetype.guess(upload.data)
    sniffed = kind.extension if kind else None
    sniffed = EXTENSIONS.get(sniffed, sniffed)
    if sniffed not in allowed:
        listed = "、".join(t.upper() for t in allowed)
        raise UploadRefused(name, f"文件类型不符合要求，只接受 {listed} 文件。")
    claimed = EXTENSIONS.get(upload.filename.rsplit(".", 1)[-1].lower()) if "." in upload.filename else None
    if claimed != sniffed:
        raise UploadRefused(name, f"文件扩展名与内容不符（内容是 {sniffed.upper()}）。")
    return ALLOWED[sniffed]
