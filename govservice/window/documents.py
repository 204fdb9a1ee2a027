"""The notices the window prints for the applicant (ReportLab, with the embedded CJK font the
certificates use): 受理通知书, 一次性告知书 (补正材料通知书), 不予受理决定书.

A notice is rendered from the content stored when it was issued (`CaseDocument.content`), so
printing it again gives the same document. Wording follows the model texts used with
《中华人民共和国行政许可法》第三十二条 (受理、补正、不予受理). ReportLab is imported when a notice
is rendered, not with this module (its numbers and links are read by pages that draw no PDF).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from flask import current_app

from ..cases.models import Case, CaseDocument
from ..core import clock, pdfkit
from ..progress import services as progress

if TYPE_CHECKING:
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Table

TITLES = {
    "acceptance": "受理通知书",
    "supplement": "补正材料一次性告知书",
    "refusal": "不予受理决定书",
}
SUFFIX = {"acceptance": "SL", "supplement": "BZ", "refusal": "BSL"}


def document_number(case: Case, document: CaseDocument) -> str:
    """文书编号: the case number, the kind, and for supplements the round (BZ1, BZ2, ...)."""
    number = f"{case.number}-{SUFFIX[document.kind]}"
    if document.kind == "supplement":
        number += str(1 + sum(1 for d in case.documents if d.kind == "supplement" and d.id < document.id))
    return number


def filename(case: Case, document: CaseDocument) -> str:
    return f"{document_number(case, document)}.pdf"


def _styles(font: str) -> dict[str, ParagraphStyle]:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("body", fontName=font, fontSize=11.5, leading=19, wordWrap="CJK", firstLineIndent=23)
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=4),
        "number": ParagraphStyle(
            "number",
            fontName=font,
            fontSize=10.5,
            leading=16,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#444444"),
            spaceAfter=14,
        ),
        "to": ParagraphStyle("to", parent=body, firstLineIndent=0, spaceAfter=6),
        "body": body,
        "plain": ParagraphStyle("plain", parent=body, firstLineIndent=0),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=10.5, leading=15, wordWrap="CJK"),
        "sign": ParagraphStyle("sign", parent=body, firstLineIndent=0, alignment=TA_RIGHT),
        "small": ParagraphStyle(
            "small", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK", textColor=colors.HexColor("#444444")
        ),
    }


def _p(text: str, style) -> Paragraph:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _table(rows: list[list[str]], widths: list[float], style: ParagraphStyle, header: bool = False) -> Table:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    table = Table([[_p(c, style) for c in row] for row in rows], colWidths=widths)
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F2F2F2")))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F7F7F7")))
    table.setStyle(TableStyle(commands))
    return table


def _local_date(value) -> str:
    return f"{value.astimezone(clock.BEIJING):%Y年%m月%d日}"


def _iso_to_chinese(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{year}年{month}月{day}日"


def progress_url(case: Case) -> str:
    """Where the QR code of the 受理通知书 leads: the public 进度查询 with number and 查询码 filled in."""
    query = urlencode({"number": case.number, "code": progress.query_code(case.number)})
    return f"{current_app.config['PUBLIC_URL']}/progress/?{query}"


def _qr(value: str, size: float) -> Drawing:
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(value, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def render(case: Case, document: CaseDocument, *, hall_name: str) -> bytes:
    """The notice as PDF bytes (A4)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table

    font = pdfkit.font()
    s = _styles(font.name)
    content = document.content
    applicant = case.applicant.name
    submitted = _local_date(case.submitted_at or case.created_at)
    item = case.item
    licensing = item.kind == "行政许可"
    width = A4[0] - 50 * mm
    story = [
        _p(TITLES[document.kind], s["title"]),
        _p(f"编号：{document_number(case, document)}", s["number"]),
        _p(f"{applicant}：", s["to"]),
    ]

    if document.kind == "acceptance":
        basis = "根据《中华人民共和国行政许可法》第三十二条第一款第（五）项的规定，" if licensing else ""
        story.append(
            _p(
                f"你（单位）于{submitted}提出的“{item.name}”申请，申请材料齐全、符合法定形式，{basis}决定予以受理。",
                s["body"],
            )
        )
        deadline = _iso_to_chinese(content["deadline"]) + (
            "（暂定：该年度节假日安排尚未公布）" if content["provisional"] else ""
        )
        departments = "、".join(content["departments"]) + ("（并联审查）" if content.get("joint") else "")
        story += [
            Spacer(1, 8),
            _table(
                [
                    ["办件编号", case.number],
                    ["申请事项", item.name],
                    ["受理日期", _iso_to_chinese(content["accepted_on"])],
                    ["承诺办理时限", f"{content['time_limit_days']}个工作日（法定节假日除外）"],
                    ["办理截止日期", deadline],
                    ["审查部门", departments],
                ],
                [32 * mm, width - 32 * mm],
                s["cell"],
            ),
            Spacer(1, 10),
            _p("接下来：", s["plain"]),
            _p(
                "一、审查部门将在承诺时限内作出决定。审查中需要补正材料的，将一次性告知，补正期间不计入办理时限。",
                s["body"],
            ),
            _p(
                "二、你可以登录“一网通办”平台在“我的办件”中查看办理进度；不登录的，可凭办件编号和查询码"
                f"（{progress.query_code(case.number)}）在“进度查询”中查询，或扫描下方二维码。",
                s["body"],
            ),
            _p("三、办理结果：" + (content.get("delivery") or "办结后通知你到综合窗口领取。"), s["body"]),
        ]
        if content.get("contact"):
            story.append(_p(f"咨询电话：{content['contact']}", s["plain"]))
        story += [
            Spacer(1, 6),
            Table(
                [
                    [
                        _qr(progress_url(case), 28 * mm),
                        _p(f"扫码查询办理进度\n查询码：{progress.query_code(case.number)}", s["plain"]),
                    ]
                ],
                colWidths=[32 * mm, width - 32 * mm],
                style=[("VALIGN", (0, 0), (-1, -1), "MIDDLE")],
            ),
        ]
    elif document.kind == "supplement":
        basis = "根据《中华人民共和国行政许可法》第三十二条第一款第（四）项的规定，" if licensing else ""
        story.append(
            _p(
                f"你（单位）于{submitted}提出的“{item.name}”申请（办件编号：{case.number}），经审查，"
                f"申请材料不齐全或者不符合法定形式。{basis}现一次性告知你需要补正的全部内容：",
                s["body"],
            )
        )
        rows = [["序号", "材料或事项", "补正原因及要求"]]
        rows += [[str(i), entry["name"], entry["reason"]] for i, entry in enumerate(content["items"], 1)]
        story += [
            Spacer(1, 8),
            _table(rows, [14 * mm, 50 * mm, width - 64 * mm], s["cell"], header=True),
            Spacer(1, 10),
        ]
        if content.get("note"):
            story.append(_p(f"说明：{content['note']}", s["body"]))
        story.append(
            _p(
                f"请于{_iso_to_chinese(content['due'])}前补正上述全部内容。你可以在“一网通办”平台“我的办件”中"
                f"在线提交，也可以到综合窗口提交。",
                s["body"],
            )
        )
        if content.get("origin") == "department":
            story.append(_p("补正期间不计入办理时限；补正材料经窗口核验后转审查部门继续审查。", s["body"]))
        else:
            story.append(_p("补正材料齐全、符合法定形式后予以受理；逾期未补正的，将依法作出不予受理决定。", s["body"]))
    elif document.kind == "refusal":
        story += [
            _p(
                f"你（单位）于{submitted}提出的“{item.name}”申请（办件编号：{case.number}），经审查，决定不予受理。",
                s["body"],
            ),
            Spacer(1, 8),
            _table([["理由", content["reason"]], ["依据", content["basis"]]], [24 * mm, width - 24 * mm], s["cell"]),
            Spacer(1, 10),
            _p(
                "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，或者自收到本决定书之日起六个月内"
                "依法提起行政诉讼。",
                s["body"],
            ),
        ]

    story += [
        Spacer(1, 28),
        _p(item.department.name, s["sign"]),
        _p(f"{hall_name}综合窗口", s["sign"]),
        _p(_local_date(document.issued_at), s["sign"]),
        Spacer(1, 20),
        _p("本文书由一网通办平台生成，可凭文书编号在综合窗口核对。", s["small"]),
    ]

    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=20 * mm,
        title=TITLES[document.kind],
        author=item.department.name,
        subject=document_number(case, document),
        creator="govservice 一网通办",
        invariant=1,
    )
    pdf.build(story)
    return buffer.getvalue()
