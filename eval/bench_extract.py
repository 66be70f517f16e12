"""Extraction speed and memory per format: a 300-page PDF (the 22-page 2018 quarterly report in
tests/data/samples, repeated), and every real sample file. Each measurement runs in a fresh
process, so its peak RSS is the extraction's own (plus the interpreter and the libraries).

    python eval/bench_extract.py [--pages 300] [--runs 3]

Prints, per file: pages, characters extracted, median seconds over the runs, pages per second,
peak RSS in MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "data" / "samples"

ONE = """
import json, resource, sys, time
from pathlib import Path
from cqqa.ingest.sources import read_document
import cqqa.ingest.formats.pdf, cqqa.ingest.formats.html, cqqa.ingest.formats.docx  # imported before timing
import pypdf, trafilatura, docx  # noqa
path = Path(sys.argv[1])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
doc = read_document(path, path.parent)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "chars": len(doc.text), "pages": doc.meta.get("pages", 0),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "before_mb": base / 1024}))
"""


def long_pdf(pages: int, out: Path) -> Path:
    import pypdf

    source = pypdf.PdfReader(SAMPLES / "pdf" / "issue-67-example.pdf")
    writer = pypdf.PdfWriter()
    for i in range(pages):
        writer.add_page(source.pages[i % len(source.pages)])
    with open(out, "wb") as handle:
        writer.write(handle)
    return out


def measure(path: Path, runs: int) -> dict:
    rows = []
    for _ in range(runs):  # each in an empty CQQA_CACHE_DIR: a kept extraction would be read instead
        env = {**os.environ, "CQQA_CACHE_DIR": tempfile.mkdtemp(prefix="cqqa-extract-cache-")}
        run = subprocess.run([sys.executable, "-c", ONE, str(path)], capture_output=True, text=True, check=True,
                             env=env)
        rows.append(json.loads(run.stdout.strip().splitlines()[-1]))
    seconds = statistics.median(r["seconds"] for r in rows)
    pages = rows[0]["pages"]
    return {"file": f"{path.parent.name}/{path.name}", "bytes": path.stat().st_size, "pages": pages, "chars": rows[0]["chars"],
            "seconds": round(seconds, 3), "pages_per_s": round(pages / seconds, 1) if pages else None,
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in rows)),
            "rss_before_mb": round(rows[0]["before_mb"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cqqa-extract-"))
    files = [long_pdf(args.pages, work / f"report-{args.pages}-pages.pdf")]
    files += sorted(p for p in SAMPLES.rglob("*") if p.suffix in (".pdf", ".html", ".docx"))
    results = []
    print(f"{'file':40} {'pages':>5} {'chars':>8} {'s (median)':>10} {'pages/s':>8} {'peak RSS MB':>11} (before)")
    for path in files:
        row = measure(path, args.runs)
        results.append(row)
        print(f"{row['file'][:40]:40} {row['pages']:>5} {row['chars']:>8} {row['seconds']:>10} "
              f"{row['pages_per_s'] or '':>8} {row['peak_rss_mb']:>11} ({row['rss_before_mb']})", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
