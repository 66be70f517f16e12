"""Hostile files, made as an attacker would make them (issue 34): archives that lie about their
sizes, XML that expands or does not parse, PDFs whose few kilobytes inflate to millions of text
operators. Each is built in a second or two, in memory or in a temporary folder."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 '<Default Extension="xml" ContentType="application/xml"/>'
                 '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument'
                 '.wordprocessingml.document.main+xml"/></Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>')
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def document_xml(body: str, doctype: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
            f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>')


def paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def docx(document: str | bytes, extra: dict[str, bytes] | None = None, level: int = 6) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("word/document.xml", document)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def lying_zip_bomb(inflated_mb: int = 1024, claimed: int = 200 * 1024) -> bytes:
    """A .docx whose word/document.xml inflates to `inflated_mb` MB of spaces while its local
    header and the central directory both claim `claimed` bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        with archive.open("word/document.xml", "w") as member:
            member.write(document_xml(paragraph("重庆")).encode()[:-len("</w:body></w:document>")])
            block = b" " * 2**20
            for _ in range(inflated_mb):
                member.write(block)
            member.write(b"</w:body></w:document>")
        offset = archive.getinfo("word/document.xml").header_offset
    raw = bytearray(out.getvalue())
    raw[offset + 22:offset + 26] = struct.pack("<I", claimed)  # the local header's uncompressed size
    central = raw.rfind(b"PK\x01\x02", 0, raw.find(b"PK\x05\x06"))
    while central != -1:  # the central directory entry that names the member
        name_length = struct.unpack("<H", raw[central + 28:central + 30])[0]
        if raw[central + 46:central + 46 + name_length] == b"word/document.xml":
            raw[central + 24:central + 28] = struct.pack("<I", claimed)
            break
        central = raw.rfind(b"PK\x01\x02", 0, central)
    return bytes(raw)


def billion_laughs_docx() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    return docx(document_xml(paragraph("&lol9;"), f"<!DOCTYPE lolz [{entities}]>"))


def malformed_docx() -> bytes:
    return docx(f'<?xml version="1.0"?><w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>重庆</w:body>')


def big_xml_docx(xml_mb: int = 130) -> bytes:
    """An honest .docx (sizes true, about 23 MB, ratio ~6) with `xml_mb` MB of paragraphs: within
    the upload size limit and the archive checks, but its XML is far more than a document's."""
    rng = random.Random(34)
    alphabet = "重庆汽车"
    body = "".join(paragraph("".join(rng.choices(alphabet, k=300))) for _ in range(2000))
    part = body.encode()
    repeat = max(1, xml_mb * 2**20 // len(part))
    document = document_xml("").encode()
    head, tail = document.split(b"</w:body>")
    return docx(head + part * repeat + b"</w:body>" + tail, level=1)


def expanding_pdf(pages: int = 4, operators_per_page: int = 400_000) -> bytes:
    """A small PDF whose pages each inflate to `operators_per_page` text-showing operators."""
    stream = b"BT /F1 1 Tf " + b"(a) Tj 0 1 Td " * operators_per_page + b"ET"
    packed = zlib.compress(stream, 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(pages))
               + b"] /Count %d >>" % pages,
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
                       b" /Contents %d 0 R >>" % (5 + 2 * i))
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
