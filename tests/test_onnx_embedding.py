"""The int8 ONNX backend: chosen where it should be, refused when tampered with, probed again
on another CPU class, and, with the real exported model, vectors and rankings that agree with
torch float32 on this CPU. (Another class's kernels, through an emulator: eval/emulate_cpu.py;
too slow for the suite, about a minute a text.)"""

import dataclasses
import json

import numpy as np
import pytest

from cqqa.models import cpu, embedding, factory, onnx_embedding, onnx_export
from cqqa.models.torch_embedding import SentenceTransformerEmbedder
from cqqa.config import DEFAULT_MODEL, Settings
from cqqa.errors import ConfigError, ModelFetchError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("bf16,prepared,backend,dtype,expected", [
    (True, True, "auto", "auto", "torch"),            # bf16 is faster than int8: never slower there
    (False, True, "auto", "auto", "onnx-int8"),
    (False, False, "auto", "auto", "torch"),          # not prepared: float32 torch, as before
    (False, True, "auto", "float32", "torch"),        # an explicit dtype means torch
    (True, False, "onnx-int8", "auto", "onnx-int8"),  # explicit backend wins
])
def test_backend_choice(monkeypatch, bf16, prepared, backend, dtype, expected):
    monkeypatch.setattr(embedding, "cpu_has_bf16", lambda: bf16)
    monkeypatch.setattr(onnx_embedding, "is_prepared", lambda path=None: prepared)
    assert factory.choose_backend(backend, dtype) == expected


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="CQQA_BACKEND"):
        factory.choose_backend("tensorrt")


def test_a_tampered_int8_file_is_refused(tmp_path):
    folder = tmp_path / "int8"
    folder.mkdir()
    (folder / onnx_embedding.ONNX_FILE).write_bytes(b"not the model that was checked")
    (folder / onnx_embedding.MARKER).write_text(json.dumps(
        {"format": onnx_embedding.FORMAT, "onnx_sha256": "0" * 64, "source": str(tmp_path / "gone"),
         "source_weights_sha256": "1" * 64}))
    with pytest.raises(ModelFetchError, match="int8 model"):
        onnx_embedding.verify(folder)


def test_an_int8_file_of_an_older_cqqa_is_prepared_again(tmp_path):
    """Full-range weights (format 1) drift on AVX2 CPUs: `cqqa models fetch` must redo them."""
    (tmp_path / onnx_embedding.MARKER).write_text(json.dumps({"onnx_sha256": "0" * 64}))
    assert not onnx_embedding.is_prepared(tmp_path)
    with pytest.raises(ModelFetchError, match="older cqqa.*--only int8 --force"):
        onnx_embedding.verify(tmp_path)


@pytest.mark.parametrize("flags,expected", [
    ({"AVX2", "FMA3", "AVX512F", "AVX512BW", "AVX512VNNI", "AVX512BF16"}, "avx512_bf16"),
    ({"AVX2", "FMA3", "AVX512F", "AVX512BW", "AVX512VNNI"}, "avx512_vnni"),
    ({"AVX2", "FMA3", "AVX512F", "AVX512BW"}, "avx512"),
    ({"AVX", "AVX2", "FMA3"}, "avx2"),
    ({"SSE42", "AVX"}, "baseline"),
])
def test_cpu_classes(flags, expected):
    assert cpu.cpu_class(frozenset(flags)) == expected


def test_this_cpu_has_a_class_and_bf16_follows_it():
    assert cpu.cpu_class() in cpu.CLASSES
    assert cpu.has_bf16() == (cpu.cpu_class() == "avx512_bf16")


def test_a_missing_int8_model_says_how_to_prepare_it(tmp_path):
    with pytest.raises(ModelFetchError, match="cqqa models fetch --only int8"):
        onnx_embedding.verify(tmp_path)


# ------------------------------------------------------------------ the real model


@pytest.mark.integration
def test_on_another_cpu_class_the_probe_runs_again_before_any_text(int8_embedder, monkeypatch):
    marker = json.loads((onnx_embedding.int8_model_path() / onnx_embedding.MARKER).read_text())
    assert marker["quantisation"]["reduce_range"] is True
    # prepared on this class (the usual case): no second probe; a model cache from elsewhere: probed here
    assert int8_embedder.check["probed_here"] is (marker["cpu_class"] != cpu.cpu_class())
    other = next(name for name in cpu.CLASSES if name != cpu.cpu_class())
    monkeypatch.setattr(cpu, "cpu_class", lambda flags=None: other)
    check = onnx_embedding.OnnxEmbedder(DEFAULT_MODEL).check
    assert check["probed_here"] is True and check["cpu_class"] == other
    assert check["probe_cosine_min"] >= onnx_embedding.PROBE_MIN_COSINE


@pytest.mark.integration
def test_models_verify_says_where_the_int8_vectors_were_checked(int8_embedder, monkeypatch, capsys):
    from cqqa import cli

    assert cli.main(["models", "verify", "--only", "int8"]) == 0
    assert f"prepared on this CPU class ({cpu.cpu_class()}), probe cosine min" in capsys.readouterr().out
    monkeypatch.setattr(cpu, "cpu_class", lambda flags=None: "avx2-elsewhere")
    assert cli.main(["models", "verify", "--only", "int8"]) == 0
    assert "probed again on this CPU (avx2-elsewhere, prepared on" in capsys.readouterr().out
    monkeypatch.setattr(onnx_embedding, "PROBE_MIN_COSINE", 1.01)
    assert cli.main(["models", "verify", "--only", "int8"]) != 0
    assert "drifts from float32 on this CPU (avx2-elsewhere" in capsys.readouterr().err


@pytest.mark.integration
def test_an_int8_model_that_drifts_here_gives_way_to_torch(int8_embedder, monkeypatch):
    """What a user on a CPU where the int8 vectors drift gets: one line, then torch float32."""
    monkeypatch.setattr(cpu, "cpu_class", lambda flags=None: "not-the-class-it-was-prepared-on")
    monkeypatch.setattr(onnx_embedding, "PROBE_MIN_COSINE", 1.01)  # no real vector passes: a drift
    monkeypatch.setattr(embedding, "cpu_has_bf16", lambda: False)
    said = []
    settings = dataclasses.replace(Settings.from_env(), backend="auto", dtype="auto")
    chosen = factory.load_embedder(settings, warn=said.append)
    assert isinstance(chosen, SentenceTransformerEmbedder) and chosen.dtype == "float32"
    assert len(said) == 1 and "drifts from float32 on this CPU" in said[0] and "torch float32" in said[0]
    with pytest.raises(onnx_embedding.Int8Disagrees, match="cqqa models fetch --only int8 --force"):
        factory.load_embedder(dataclasses.replace(settings, backend="onnx-int8"), warn=said.append)


@pytest.mark.integration
def test_int8_vectors_agree_with_float32(int8_embedder, embedder, searcher):
    texts = [hit.text for hit in searcher.search("重庆新能源汽车产量", k=10)]
    texts += ["What did Yin Qi say about AI 2.0?", "长安汽车前三季度累计销量是多少？"]
    got = int8_embedder.encode_documents(texts)
    reference = SentenceTransformerEmbedder(DEFAULT_MODEL, "float32").encode_documents(texts)
    cosines = (got * reference).sum(axis=1)
    assert np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)
    assert cosines.min() >= 0.97, cosines


@pytest.mark.integration
def test_an_int8_vector_does_not_depend_on_the_other_texts_embedded_with_it(int8_embedder):
    """The chat embeds one query, `cqqa eval` many, an incremental rebuild only the changed chunks:
    each must get the vector it would get alone (activations are quantised per run)."""
    query = "What did Yin Qi say about AI 2.0?"
    others = ["长安汽车前三季度累计销量是多少？", "重庆" * 200, "AITO"]
    alone = int8_embedder.encode_documents([query])[0]
    together = int8_embedder.encode_documents(others + [query])[-1]
    assert np.array_equal(alone, together)


@pytest.mark.integration
def test_an_index_built_in_int8_finds_the_right_passages(int8_embedder, corpus_dir, tmp_path):
    from cqqa.index.build import build_index
    from cqqa.retrieve.search import Searcher

    settings = dataclasses.replace(Settings.from_env(), source_dir=corpus_dir, index_dir=tmp_path / "index",
                                   backend="onnx-int8")
    build_index(settings, embedder_factory=lambda: int8_embedder)
    manifest = json.loads(next((tmp_path / "index").glob("versions/*/manifest.json")).read_text())
    assert manifest["model"]["dtype"] == "int8"
    searcher = Searcher(settings, embedder=int8_embedder)
    assert "解决智力问题的2.0时代" in searcher.search("what did Yin Qi say about AI 2.0", k=5)[0].text
    assert "206.6萬輛" in searcher.search("长安汽车前三季度累计销量是多少？", k=5)[0].text


def test_models_fetch_goes_on_without_int8_when_it_cannot_be_prepared(monkeypatch, tmp_path, capsys):
    from cqqa import cli
    from cqqa.models import files as models
    from cqqa.models import reader_model

    def refuse(*args, **kwargs):
        raise ModelFetchError("the int8 model disagrees with float32 (probe cosine 0.900 < 0.98)")

    monkeypatch.setattr(embedding, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(models, "fetch", lambda *a, **k: tmp_path / "embedder")
    monkeypatch.setattr(reader_model, "fetch", lambda *a, **k: tmp_path / "reader.gguf")
    monkeypatch.setattr(onnx_export, "prepare", refuse)
    assert cli.main(["models", "fetch", "--dir", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "int8 embedder was not prepared" in err and "torch float32 will be used" in err
    # asked for by name, the same failure is an error
    assert cli.main(["models", "fetch", "--only", "int8", "--dir", str(tmp_path)]) != 0
    assert "probe cosine 0.900" in capsys.readouterr().err
