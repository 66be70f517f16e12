"""Every setting is in config.py and in the README's configuration table, and nowhere else: a
CQQA_ variable the code reads that the table does not list fails here, and so does one the table
lists that nothing reads (issue #32)."""

from __future__ import annotations

import ast
import re

import pytest

from helpers import ROOT

from cqqa.config import LLMSettings, ReaderSettings, Settings

pytestmark = pytest.mark.unit

PACKAGE = ROOT / "src" / "cqqa"
NAME = re.compile(r"CQQA_[A-Z0-9_]*[A-Z0-9]")


def readme_table() -> set[str]:
    """The variables the README's Configuration section lists in its table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    return {name for line in section.splitlines() if line.startswith("|") for name in NAME.findall(line)}


def read_by_the_code() -> dict[str, str]:
    """The CQQA_ variables the code reads: every string constant that is exactly one's name (an
    environ key, an _env_int/_env_flag argument), with where it is."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and NAME.fullmatch(node.value):
                found.setdefault(node.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def mentioned() -> dict[str, str]:
    """Every CQQA_ name the code writes anywhere (messages, help texts), with where: each must be real."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in re.finditer(r"CQQA_[A-Z0-9_]+\*?", line):
                found.setdefault(match.group(), f"{path.relative_to(ROOT)}:{number}")
    return found


def test_the_readme_lists_exactly_the_variables_the_code_reads():
    table, code = readme_table(), read_by_the_code()
    assert {name: where for name, where in code.items() if name not in table} == {}, "read, but not in the README"
    assert sorted(table - set(code)) == [], "in the README, but read nowhere"
    assert len(table) >= 30


def test_every_variable_a_message_names_exists():
    table = readme_table()
    wrong = {name: where for name, where in mentioned().items()
             if not (name in table or (name.endswith("_*") and any(t.startswith(name[:-1]) for t in table)))}
    assert wrong == {}


def test_only_config_reads_them():
    outside = {name: where for name, where in read_by_the_code().items() if not where.startswith("src/cqqa/config.py")}
    assert outside == {}


def test_settings_carry_the_reader_and_the_servers(monkeypatch):
    monkeypatch.setenv("CQQA_READER_SLOTS", "2")
    monkeypatch.setenv("CQQA_EMBED_QUERY_PREFIX", "query: ")
    monkeypatch.setenv("CQQA_LLM_BASE_URL", "http://127.0.0.1:9/v1/")
    settings = Settings.from_env()
    assert settings.reader.slots == 2 and settings.embed_query_prefix == "query: "
    assert settings.llm.base_url == "http://127.0.0.1:9/v1" and settings.llm.enabled
    assert Settings().reader == ReaderSettings() and Settings().llm == LLMSettings()
