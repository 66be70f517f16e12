"""The render scale for OCR (formats/pdf.py OCR_SCALE): accuracy against speed and memory, on
born-digital PDF pages whose text layer is the truth. Each page is rendered at each scale (as
a scan would be at that resolution), read by OCR, and compared with its text layer.

    python eval/ocr_scale.py [--scales 1.5 2 2.5] [--pdf FILE ...] [--pages 3] [--json FILE]

Per scale and page size: median seconds per page (OCR only, the engine already loaded), the
character agreement (Han and digits, F1 over counts: tests/test_ocr.py's measure) and an
order-sensitive one (difflib ratio over the same characters: a column read in the wrong place
lowers it). The default PDFs: the samples (issue-67 pages, test_4182) and, when present, the
seed articles as LibreOffice printed them (`python eval/bench_formats.py` leaves them in
/tmp/cqqa-formats/pdf: the feature on A4, the newspaper page on A3 in two columns).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "data" / "samples" / "pdf"


def han_and_digits(text: str) -> str:
    return "".join(re.findall(r"[\u4e00-\u9fff0-9]", text))


def agreement(ocr: str, truth: str) -> float:
    got, want = Counter(han_and_digits(ocr)), Counter(han_and_digits(truth))
    return 2 * sum((got & want).values()) / max(sum(got.values()) + sum(want.values()), 1)


def in_order(ocr: str, truth: str) -> float:
    return difflib.SequenceMatcher(None, han_and_digits(ocr), han_and_digits(truth), autojunk=False).ratio()


def size_name(width_pt: float, height_pt: float) -> str:
    longest = max(width_pt, height_pt)
    return "A3" if longest > 1000 else "A4" if longest > 800 else "other"


def main() -> None:
    import pypdf
    import pypdfium2 as pdfium

    from cqqa.ingest.formats import ocr
    from cqqa.ingest.formats.base import tidy

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.5, 2.0, 2.5])
    bench = Path(tempfile.gettempdir()) / "cqqa-formats" / "pdf"
    parser.add_argument("--pdf", type=Path, nargs="+", default=[SAMPLES / "issue-67-example.pdf", SAMPLES / "test_4182.pdf",
                                                                *sorted(bench.glob("*.pdf"))])
    parser.add_argument("--pages", type=int, default=3, help="pages per PDF (the first ones)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    ocr.page_text(pdfium.PdfDocument(str(args.pdf[0]))[0].render(scale=0.5).to_pil().convert("RGB"))  # load the engine
    rows = []
    for path in args.pdf:
        layers = [page.extract_text() or "" for page in pypdf.PdfReader(path).pages[:args.pages]]
        document = pdfium.PdfDocument(str(path))
        for number, truth in enumerate(layers):
            page = document[number]
            width, height = page.get_size()
            for scale in args.scales:
                scale_used = min(scale, ocr.MAX_SIDE / max(width, height))
                image = page.render(scale=scale_used).to_pil().convert("RGB")
                started = time.perf_counter()
                text = tidy(ocr.page_text(image))
                seconds = time.perf_counter() - started
                rows.append({"pdf": path.name, "page": number + 1, "size": size_name(width, height), "scale": scale,
                             "pixels": f"{image.width}x{image.height}", "seconds": round(seconds, 2),
                             "agreement": round(agreement(text, truth), 4), "in_order": round(in_order(text, truth), 4)})
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    print(f"\n{'size':5} {'scale':>5} {'dpi':>4} {'pages':>5} {'s/page p50':>10} {'agreement':>9} {'in order':>8}")
    for size in sorted({r["size"] for r in rows}):
        for scale in args.scales:
            group = [r for r in rows if r["size"] == size and r["scale"] == scale]
            if group:
                print(f"{size:5} {scale:5.2f} {72 * scale:4.0f} {len(group):5} {statistics.median(r['seconds'] for r in group):10.2f} "
                      f"{statistics.mean(r['agreement'] for r in group):9.4f} {statistics.mean(r['in_order'] for r in group):8.4f}")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
