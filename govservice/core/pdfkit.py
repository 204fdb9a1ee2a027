"""The PDF toolkit every PDF of the platform uses (certificates, the window's notices, blank forms):
the CJK font, found once and registered with ReportLab, and a demo PDF for sample materials.

Chinese text needs a CJK font.  :func:`find_cjk_font` prefers a freely
licensed *TrueType* CJK font found on the system (WenQuanYi Zen Hei from
Debian's ``fonts-wqy-zenhei`` first), registers it with ReportLab, and
ReportLab then embeds a subset of it in every PDF, so the certificate looks
the same on every viewer.  Fonts with CFF/PostScript outlines (for example
Noto CJK's ``.ttc``/``.otf`` files) cannot be used by ReportLab's ``TTFont``
and are skipped.  If no usable font is found we fall back to ReportLab's
standard CID font ``STSong-Light``, which is *not* embedded (the viewer has
to supply a substitute) and log a warning.

`font()` is the app's font, found on first use in a process: its ReportLab tables take some
30 MB, which a web worker that renders no PDF never pays (a Celery worker loads it before it
forks: `certificates.tasks.prepare_worker_process`). ReportLab itself is imported by the
functions that register a font or draw, not by this module: importing the toolkit (every
domain that renders a PDF does, at start) loads no PDF library.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import current_app

logger = logging.getLogger(__name__)

#: Freely licensed CJK fonts with TrueType (glyf) outlines, in order of
#: preference, at their Debian/Ubuntu locations.  Entries that do not exist or
#: that ReportLab cannot load (CFF outlines) are skipped.
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # fonts-arphic-uming
    "/usr/share/fonts/truetype/arphic/ukai.ttc",  # fonts-arphic-ukai
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
    # CFF-based; listed so that a later fonts-noto-cjk packaging with glyf
    # outlines would be picked up, skipped today because TTFont rejects them.
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)

#: ReportLab's built-in Adobe CID font for Simplified Chinese (not embedded).
FALLBACK_CID_FONT = "STSong-Light"


@dataclass(frozen=True)
class FontChoice:
    """The font a certificate is rendered with.

    ``name`` is the ReportLab font name, ``path`` the font file (``None`` for
    the built-in CID fallback) and ``embedded`` tells whether the glyphs end
    up embedded (subset) in the PDF.
    """

    name: str
    path: str | None
    embedded: bool


_registry_lock = threading.Lock()
_loaded: dict[str, FontChoice] = {}


def _font_name_for(path: str) -> str:
    base = os.path.splitext(os.path.basename(path))[0]
    safe = "".join(ch if ch.isalnum() else "-" for ch in base)
    return f"GovCJK-{safe}"


def _load_truetype(path: str) -> FontChoice:
    """Register the TrueType/TTC font at ``path``; raise TTFError/OSError."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = os.path.abspath(path)
    with _registry_lock:
        cached = _loaded.get(path)
        if cached is not None:
            return cached
        name = _font_name_for(path)
        if path.lower().endswith((".ttc", ".otc")):
            font = TTFont(name, path, subfontIndex=0)
        else:
            font = TTFont(name, path)
        pdfmetrics.registerFont(font)
        choice = FontChoice(name=name, path=path, embedded=True)
        _loaded[path] = choice
        return choice


def _fallback_font() -> FontChoice:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
    return FontChoice(name=FALLBACK_CID_FONT, path=None, embedded=False)


_FONT_MAGIC = (b"\x00\x01\x00\x00", b"true", b"ttcf")  # TrueType outlines, or a TrueType collection


def check_font_file(path: str) -> None:
    """Fail at start on a configured font that cannot be used, without parsing it (that takes
    some 30 MB and a second, and is left to the first PDF)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"configured certificate font not found: {path}")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic not in _FONT_MAGIC:
        raise ValueError(
            f"configured certificate font {path!r} cannot be embedded by ReportLab "
            "(TrueType outlines required, CFF/OpenType-PS is not supported)"
        )


def find_cjk_font(
    configured: str | None = None,
    *,
    search_paths: Iterable[str] | None = None,
) -> FontChoice:
    """Pick (and register with ReportLab) the CJK font for certificates.

    :param configured: path of a TrueType (``.ttf``) or TrueType collection
        (``.ttc``, first face used) font to use.  A missing file raises
        :class:`FileNotFoundError`; a file ReportLab cannot embed (e.g. CFF
        outlines) raises :class:`ValueError`.
    :param search_paths: candidate font files to try when nothing is
        configured; defaults to :data:`CJK_FONT_CANDIDATES`.
    :return: the embedded TrueType font found, or the non-embedded
        ``STSong-Light`` CID font (with a logged warning) if none is usable.
    """
    from reportlab.pdfbase.ttfonts import TTFError

    if configured:
        if not os.path.isfile(configured):
            raise FileNotFoundError(f"configured certificate font not found: {configured}")
        try:
            return _load_truetype(configured)
        except (TTFError, OSError, ValueError) as exc:
            raise ValueError(
                f"configured certificate font {configured!r} cannot be embedded by "
                f"ReportLab (TrueType outlines required, CFF/OpenType-PS is not supported): {exc}"
            ) from exc

    candidates = CJK_FONT_CANDIDATES if search_paths is None else tuple(search_paths)
    for path in candidates:
        if not os.path.isfile(path):
            continue
        try:
            return _load_truetype(path)
        except (TTFError, OSError, ValueError) as exc:
            logger.debug("skipping CJK font %s: %s", path, exc)

    logger.warning(
        "No embeddable CJK TrueType font found (tried %s); falling back to the "
        "non-embedded CID font %s. Install fonts-wqy-zenhei or configure a font path "
        "so certificates render identically everywhere.",
        ", ".join(candidates) or "no candidates",
        FALLBACK_CID_FONT,
    )
    return _fallback_font()


def ensure_registered(font: FontChoice) -> FontChoice:
    from reportlab.pdfbase import pdfmetrics

    try:
        pdfmetrics.getFont(font.name)
        return font
    except KeyError:
        pass
    if font.path is None:
        return _fallback_font()
    return _load_truetype(font.path)


def font() -> FontChoice:
    """The CJK font of this app's PDFs (`CJK_FONT`, else the first usable one found)."""
    choice = current_app.extensions.get("cjk_font")
    if choice is None:
        choice = current_app.extensions["cjk_font"] = find_cjk_font(current_app.config["CJK_FONT"] or None)
    return choice


@dataclass(frozen=True)
class CertificatePage:
    """What a certificate's page says, the same for its PDF (``certificates.pdf``) and its OFD
    (``govservice.ofd``): made by ``certificates.issuance.layout``, each renderer lays it out."""

    title: str
    subtitle: str | None
    rows: Sequence[tuple[str, str]]
    identifier: str
    issuer_name: str
    issued_on: str
    valid_until: str
    verify_url: str
    footer: str | None = None
    orientation: str = "portrait"  # landscape: laid out as the paper 营业执照
    issuer_label: str = "发证机关"  # what the issuer is called there (登记机关)

    def body(self) -> list[tuple[str, str]]:
        """The rows printed, with the validity unless a row already gives it."""
        body = list(self.rows)
        if self.valid_until and not any("有效期" in str(label) for label, _ in body):
            body.append(("有效期至", self.valid_until))
        return body

    def characters(self, *printed: str) -> str:
        """Every character the page prints: its texts, its rows and the fixed words ``printed``."""
        texts = (self.title, self.subtitle or "", self.identifier, self.issuer_name, self.issued_on, self.footer or "")
        return "".join([*texts, *printed, *(f"{label}{value}" for label, value in self.body())])


def qr_matrix(value: str) -> tuple[int, bytes]:
    """The QR code (error correction M) as (side, one byte per module, row by row, 0 = dark),
    which the PDF and the OFD draw as vector paths.

    Encoded by zxing-cpp in C++ (mask chosen by the standard's penalty rules) in about a
    millisecond; the pure-Python ``qrcode`` library spent ~30 ms of every issuance on it.
    """
    import zxingcpp

    barcode = zxingcpp.create_barcode(value, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = memoryview(barcode.to_image(scale=1, add_quiet_zones=False))
    return modules.shape[0], modules.tobytes()


def sample_pdf(text: str = "Lease agreement (demo)") -> bytes:
    """A small real PDF, for the demo's uploaded materials."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()
