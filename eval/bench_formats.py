"""The seed articles as a web page, a PDF, a Word file and a scanned PDF (the PDF's pages
rendered to images at 144 dpi, so OCR must read them), made by a real converter (LibreOffice),
run through the whole path (extract → clean → chunk → embed → search → answer) and scored on the
project's evaluation set against the .txt originals, in one run.

    python eval/bench_formats.py [--out /tmp/cqqa-formats] [--set eval/cqqa-eval.jsonl] [--json FILE]

Needs `soffice` (Debian: libreoffice-writer-nogui). The newspaper page (layout = "wrapped")
is laid out in two columns on an A3 sheet before it is printed to PDF, as the paper's page was. Every format
keeps the article's id and sidecar, so the evaluation set applies unchanged. Prints, per
format: R@1, R@5, MRR@10, quote∋evidence, refusals, and per file the extraction's time, pages,
seconds per page and peak memory (each file extracted alone in a fresh process).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT_FILTER = "Text (encoded):UTF8,LF,,,"


def soffice(src: Path, target: str, outdir: Path, text_input: bool) -> Path:
    cmd = ["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{outdir}/.lo-profile"]
    if text_input:
        cmd.append(f"--infilter={TEXT_FILTER}")
    subprocess.run(cmd + ["--convert-to", target, "--outdir", str(outdir), str(src)], check=True,
                   capture_output=True, timeout=300)
    made = outdir / f"{src.stem}.{target.split(':')[0]}"
    if not made.exists():
        raise SystemExit(f"soffice did not make {made}")
    return made


def two_columns(docx_path: Path) -> None:
    """Lay a .docx out as a newspaper page, in place: two columns on an A3 sheet, each as wide as
    the original page's lines (about 30 characters), so that a line of the extracted page is
    again a line of the PDF (on A4 they would wrap a second time, which no real paper does)."""
    import docx
    from docx.oxml.ns import qn
    from docx.shared import Mm

    document = docx.Document(str(docx_path))
    for section in document.sections:
        section.page_width, section.page_height = Mm(297), Mm(420)
        cols = section._sectPr.find(qn("w:cols"))
        if cols is None:
            cols = section._sectPr.makeelement(qn("w:cols"), {})
            section._sectPr.append(cols)
        cols.set(qn("w:num"), "2")
        cols.set(qn("w:space"), "425")
    document.save(str(docx_path))


def make_formats(source: Path, out: Path) -> dict[str, Path]:
    from cqqa.ingest.sources import read_meta

    folders = {name: out / name for name in ("txt", "html", "pdf", "docx")}
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="cqqa-lo-"))
    for txt in sorted(source.glob("*.txt")):
        sidecar = txt.with_name(txt.stem + ".meta.toml")
        for name, folder in folders.items():
            if sidecar.exists():  # a PDF re-wraps the lines: the .txt's `layout` does not describe it
                text = sidecar.read_text(encoding="utf-8")
                keep = [line for line in text.splitlines() if name != "pdf" or not line.startswith("layout")]
                (folder / sidecar.name).write_text("\n".join(keep) + "\n", encoding="utf-8")
        shutil.copy(txt, folders["txt"] / txt.name)
        docx_file = soffice(txt, "docx", work, True)
        shutil.copy(docx_file, folders["docx"] / docx_file.name)
        shutil.copy(soffice(txt, "html", work, True), folders["html"] / f"{txt.stem}.html")
        if read_meta(txt).get("layout") == "wrapped":
            two_columns(docx_file)
            pdf = soffice(docx_file, "pdf", work, False)
        else:
            pdf = soffice(txt, "pdf", work, True)
        shutil.copy(pdf, folders["pdf"] / pdf.name)
    shutil.rmtree(work, ignore_errors=True)
    folders["scan"] = out / "scan"
    shutil.rmtree(folders["scan"], ignore_errors=True)
    shutil.copytree(folders["pdf"], folders["scan"])
    for pdf in folders["scan"].glob("*.pdf"):
        scanned(pdf)
    return folders


def scanned(pdf: Path, scale: float = 2.0) -> None:
    """The PDF replaced, in place, by images of its pages (no text layer): a scan whose truth is known."""
    import pypdfium2 as pdfium

    pages = [page.render(scale=scale).to_pil().convert("RGB") for page in pdfium.PdfDocument(str(pdf))]
    pages[0].save(pdf, "PDF", save_all=True, append_images=pages[1:], resolution=72 * scale)


def cqqa(*args: str) -> dict:
    run = subprocess.run([sys.executable, "-m", "cqqa.cli", *args, "--json"], capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"cqqa {' '.join(args)} failed: {run.stderr.strip()[-500:]}")
    return json.loads(run.stdout)


COST = """
import json, sys, time
from pathlib import Path
from cqqa.ingest.sources import extract
path = Path(sys.argv[1])
started = time.perf_counter()
extracted = extract(path.read_bytes(), path)
seconds = time.perf_counter() - started
peak = next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM"))
print(json.dumps({"seconds": round(seconds, 2), "pages": extracted.meta.get("pages", 1), "peak_mb": peak // 1024}))
"""


def extraction_cost(folder: Path) -> dict[str, dict]:
    """Per file, extracted alone in a fresh process (not read_document: that would read the copy
    kept in $CQQA_CACHE_DIR/extracted): seconds, pages, seconds per page, peak resident MB."""
    from cqqa.ingest.sources import discover

    out = {}
    for path in discover(folder):
        run = subprocess.run([sys.executable, "-c", COST, str(path)], capture_output=True, text=True, check=True)
        cost = json.loads(run.stdout.strip().splitlines()[-1])
        out[path.name] = cost | {"seconds_per_page": round(cost["seconds"] / max(cost["pages"], 1), 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT / "docs_src")
    parser.add_argument("--set", type=Path, default=ROOT / "eval" / "cqqa-eval.jsonl")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "cqqa-formats")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--formats", nargs="+", default=["txt", "html", "pdf", "docx", "scan"],
                        help="score only these (txt is the baseline: keep it, or keep its earlier results in --out)")
    args = parser.parse_args()
    folders = make_formats(args.source, args.out)
    results = {}
    for name, folder in folders.items():
        if name not in args.formats:
            continue
        index = args.out / f"{name}.index"
        common = ["--set", str(args.set), "--source", str(folder), "--index", str(index)]
        retrieval = cqqa("eval", *common)
        (args.out / f"{name}.eval.json").write_text(json.dumps(retrieval), encoding="utf-8")
        answers = cqqa("eval", *common, "--answers")["summary"]["all"]
        results[name] = {"extraction": extraction_cost(folder), "retrieval": retrieval["metrics"],
                         "answers": answers}
        print(f"{name:5} R@1 {retrieval['metrics']['recall@1']:.3f}  R@5 {retrieval['metrics']['recall@5']:.3f}  "
              f"MRR {retrieval['metrics']['mrr@10']:.3f}  quote∋evidence {answers['quote_has_evidence']}  "
              f"refused (unanswerable) {answers['unanswerable_refused']}  (answerable) {answers['answerable_refused']}  "
              f"extraction {results[name]['extraction']}", flush=True)
    for name in [f for f in folders if f != "txt" and f in results]:  # paired, question by question, against the .txt originals
        compare = subprocess.run([sys.executable, "-m", "cqqa.cli", "eval", "--compare", str(args.out / "txt.eval.json"),
                                  str(args.out / f"{name}.eval.json")], capture_output=True, text=True)
        print(f"--- txt vs {name}\n{compare.stdout.strip() or compare.stderr.strip()}", flush=True)
        results[name]["compare_to_txt"] = compare.stdout
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
