"""`cqqa bench` (evaluation/bench.py): a real build and real searches, timed, with the float32
chunks-only reference a build is compared with (issue 37) measured in the same run."""

from __future__ import annotations

import dataclasses

import pytest

from cqqa.config import Settings
from cqqa.evaluation import bench

pytestmark = pytest.mark.integration


def test_the_build_is_reported_against_float32_embedding_the_chunks_alone(corpus_dir, tmp_path):
    settings = dataclasses.replace(Settings.from_env(), source_dir=corpus_dir, index_dir=tmp_path / "index")
    said: list[str] = []
    result = bench.run(settings, runs=1, progress=said.append, reference=True)
    cold, reference = result["cold_build_s_median"], result["float32_chunks_only_s_median"]
    assert cold > 0 and reference > 0
    assert result["cold_build_vs_float32_chunks_only"] == pytest.approx(cold / reference, abs=0.01)
    assert result["cold_build_chunks_per_minute"] == pytest.approx(60 * result["chunks"] / cold, rel=0.01)
    assert any("float32 chunks-only reference 1/1" in line for line in said)
    assert not (tmp_path / "index").exists()  # the bench builds in a folder of its own, never the user's index
