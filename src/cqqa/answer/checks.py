"""Checks by code on what a language model writes about a source sentence.

Three checks, each a pass/fail with the reasons a user can read:

* numbers: every number the text writes equals a number of its source by value
  (quantities.py: 206.6万 = 2,066,000 = 2.066 million; a rounding keeping two significant
  digits counts); "115 billion" for 115亿 (11.5 billion) or a year the source never gives fails;
* names: every person or organisation the text names in English is one its source names (by
  the name bridge: 赛力斯 is Seres), and every one the source names and the reader was given
  in English is in the text (賽力斯 must not become "the company");
* script: no Chinese is left in an English text ("长安 Automobile").

The model is never trusted to check itself; a text that fails any check is withheld and the
quote it translates stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cqqa.answer.quantities import chinese_quantities, unsupported
from cqqa.textnorm import han_runs, to_simplified


@dataclass
class CheckResult:
    numbers: bool = True
    names: bool = True
    script: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.numbers and self.names and self.script


def _names_pattern(name: str) -> re.Pattern:
    return re.compile(r"(?<![A-Za-z])" + re.escape(name).replace(r"\ ", r"[\s-]*") + r"(?![A-Za-z])", re.IGNORECASE)


def check(text: str, source: str, english_names: dict[str, list[str]], expected: dict[str, str],
          english: bool = True) -> CheckResult:
    """`text`, written about `source`: an English rendering unless `english` is False (a Chinese
    generated sentence: its names are compared as Chinese, and Chinese is not a fault).
    `english_names`: the English names of every person and organisation the corpus knows
    (Chinese form -> names); `expected`: the Chinese forms of `source` the writer was told the
    English names of (form -> name)."""
    result = CheckResult()
    wrong = unsupported(text, source)
    if wrong:
        result.numbers = False
        has = ", ".join(dict.fromkeys(q.text.strip() for q in chinese_quantities(source))) or "none"
        result.problems.append(f"numbers not in the source: {', '.join(q.text for q in wrong)} (the source has: {has})")
    simplified = to_simplified(source)
    text_simplified = None if english else to_simplified(text)
    foreign = []
    for form, names in english_names.items():
        if form in simplified:
            continue
        written = (form in text_simplified) if not english else any(_names_pattern(n).search(text) for n in names)
        if written:
            also = [f for f, ns in english_names.items() if set(ns) & set(names) and f in simplified]
            if not also:
                foreign.append(f"{names[0]} ({form})")
    missing = [f"{name} ({form})" for form, name in expected.items()
               if not any(_names_pattern(n).search(text) for n in english_names.get(form, [name]))]
    if foreign:
        result.names = False
        result.problems.append(f"names the source does not: {', '.join(sorted(set(foreign)))}")
    if missing:
        result.names = False
        result.problems.append(f"leaves out: {', '.join(missing)}")
    left = han_runs(text) if english else []
    if left:
        result.script = False
        result.problems.append(f"Chinese left untranslated: {'、'.join(dict.fromkeys(left))}")
    return result
