"""Whether the passages found answer the question, or "not in the articles".

The signal is the similarity of the best passage's best sentence to the question (`score`).
What it means depends on the language asked in (an English question scores about 0.12 below the
same question in Chinese against Chinese text) and on the corpus: in two articles on one topic a
question they cannot answer still finds sentences on its topic (0.35-0.45 in English), while
over 24 Wikipedia articles an answerable English question may score 0.30. One threshold cannot
serve both, so the thresholds are data, fitted per language (`cqqa calibrate`, evaluation/
calibrate.py) and kept with the index (`<index>/decision.json`); an index without one uses the
default fitted on public corpora nobody tuned on (`cqqa/data/decision.json`).

Per language, a question is refused when

* it asks about a year the corpus never writes (textnorm.YEAR), whatever its score; else
* it uses a noun (or an English name) the corpus never does (absent_terms.py) and its score is
  below `with_absent_terms`; else
* the best passage writes an exact identifier the question names (a number of three or more
  digits, not a year: "What is the 33618 system?"): its score is below the lower of `plain` and
  `anchored` (too few questions name one to fit a threshold of their own); else
* it is *anchored*: the best passage writes a name the question asks about (bridged from English:
  Josh Norman, 诺曼; names.py); then its score is below `anchored`. An English question about a player that
  the passage names may score 0.25 and be answered there; a question about an article that is
  not in the corpus rarely finds its names anywhere (xquad-dev: 8 of 90 did, all below 0.30); else
* its score is below `plain`.

A Chinese question's bar rises with the share of its terms that the best passage's article never
writes (`unwritten`, absent_terms.unwritten_share), by `per_unwritten` per whole share: a near
miss (the article is about the person or thing asked about, but the asked fact is gone) finds
its article by the names and topic it shares, yet the words of the asked fact are not in it.
Measured on DRCD and xquad-dev with one paragraph removed from each article (docs/evaluation.md).
An English question has no Chinese terms to compare, so its bar does not move. Instead, a
question that clears its bar with a score below `judge_below` is judged by the reader where
one runs (judge.py): the reader's probability that the closest sentences state the answer must
reach `judge_min`, or the question is refused as a near miss. Without a reader, or when it
fails, the question is decided as if the judge did not exist.

A who-is or what-is question the subject lookup answers (roles.py) is never refused.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from cqqa.errors import ConfigError

FILE = "decision.json"  # in the index folder, beside versions/: kept across rebuilds
LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Signals:
    """What the decision reads of one retrieval; `cqqa calibrate` fits on these."""

    lang: str
    score: float | None  # None: no dense score (lexical mode), nothing to calibrate
    absent_terms: bool  # a noun or name the corpus never uses (years aside)
    absent_year: bool
    anchored: bool  # the best passage writes a name the question asks about
    lookup: bool
    identifier: bool = False  # the best passage writes an exact identifier the question names
    unwritten: float | None = None  # share of a Chinese question's terms its best passage's article never writes
    judged: float | None = None  # the reader's probability that the best sentences state the answer (judge.py)


@dataclass(frozen=True)
class Thresholds:
    plain: float
    with_absent_terms: float
    anchored: float
    per_unwritten: float = 0.0  # how far the bar rises for a question none of whose terms the article writes
    judge_below: float = 0.0  # scores below this are judged by the reader (0: never)
    judge_min: float = 0.0  # the judge's probability of "yes" an answer needs


@dataclass(frozen=True)
class Decision:
    thresholds: dict[str, Thresholds]
    fitted_on: str = ""  # how it was fitted: the command and the sets
    measured: dict = field(default_factory=dict, compare=False)  # per language, on the fitting sets

    def answerable(self, s: Signals) -> bool:
        if s.lookup:
            return True
        if s.absent_year:
            return False
        if s.score is None:
            return True
        if s.score < self.bar(s):
            return False
        return s.judged is None or s.judged >= self.thresholds[s.lang].judge_min

    def wants_judge(self, s: Signals) -> bool:
        """Whether a question the scores answer is unsure enough to ask the judge (judge.py)."""
        return (not s.lookup and s.score is not None and s.score < self.thresholds[s.lang].judge_below
                and self.answerable(s))

    def bar(self, s: Signals) -> float:
        """The threshold that decides a question with a score (see the module's doc)."""
        t = self.thresholds[s.lang]
        return self.base_bar(s) + t.per_unwritten * (s.unwritten or 0.0)

    def base_bar(self, s: Signals) -> float:
        """The threshold of the rule that decides `s`, before its unwritten terms raise it."""
        t = self.thresholds[s.lang]
        if s.absent_terms:
            return t.with_absent_terms
        if s.identifier:
            return min(t.plain, t.anchored)
        return t.anchored if s.anchored else t.plain

    def explain(self, s: Signals) -> str:
        """One line: which rule decided, with the numbers (`cqqa search --explain`)."""
        if s.lookup:
            return "answerable: the who-is/what-is lookup answers it"
        if s.absent_year:
            return "not in the articles: it asks about a year they never write"
        if s.score is None:
            return "answerable: no similarity to judge by (lexical mode)"
        rule = ("a term the articles never use" if s.absent_terms else
                "an identifier of the question is in the best passage" if s.identifier else
                "a name of the question is in the best passage" if s.anchored else "plain")
        bar = self.bar(s)
        verdict = "answerable" if s.score >= bar else "not in the articles"
        raised = (f" ({self.base_bar(s):.3f} raised: the best article never writes {s.unwritten:.0%} of the "
                  "question's terms)" if bar != self.base_bar(s) else "")
        judged = ""
        if s.score >= bar and s.judged is not None:
            minimum = self.thresholds[s.lang].judge_min
            verdict = "answerable" if s.judged >= minimum else "not in the articles"
            judged = f"; the reader judges the best sentences to state the answer at {s.judged:.2f} (needs {minimum:.2f})"
        elif self.wants_judge(s):
            judged = (f"; unsure (below {self.thresholds[s.lang].judge_below:.3f}): where a reader runs, "
                      "`cqqa ask` and the chat ask it to judge")
        return f"{verdict}: {s.lang} question, {rule}: best sentence {s.score:.3f} vs threshold {bar:.3f}{raised}{judged}"

    @classmethod
    def uniform(cls, plain: float, with_absent_terms: float | None = None, anchored: float | None = None) -> "Decision":
        """The same thresholds for every language (for tests and sweeps)."""
        t = Thresholds(plain, plain if with_absent_terms is None else with_absent_terms,
                       plain if anchored is None else anchored)
        return cls({lang: t for lang in LANGUAGES})

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    def save(self, path: Path) -> None:
        """Write atomically: a crash leaves the old file or the new one, never half of one."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(path.name + ".tmp")
        scratch.write_text(self.to_json(), encoding="utf-8")
        scratch.replace(path)

    @classmethod
    def from_dict(cls, data: dict, where: str, fallback: "Decision | None" = None) -> "Decision":
        """A decision from its JSON. A file from before the judge (judge_below, judge_min) takes
        those from `fallback` (the default's), so a corpus fitted earlier still has its near
        misses judged; one from before `per_unwritten` keeps 0: its thresholds were fitted without it."""
        try:
            thresholds = {lang: cls._thresholds(t, fallback.thresholds.get(lang) if fallback else None)
                          for lang, t in data["thresholds"].items()}
            missing = [lang for lang in LANGUAGES if lang not in thresholds]
            if missing:
                raise KeyError(missing[0])
            return cls(thresholds, str(data.get("fitted_on", "")),
                       data.get("measured", {}))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{where} is not a refusal decision cqqa can read ({exc!r}); refit it with "
                              "`cqqa calibrate`, or delete it to use the default") from None

    @staticmethod
    def _thresholds(t: dict, fallback: Thresholds | None) -> Thresholds:
        judge_below, judge_min = (fallback.judge_below, fallback.judge_min) if fallback else (0.0, 0.0)
        return Thresholds(float(t["plain"]), float(t["with_absent_terms"]), float(t["anchored"]),
                          float(t.get("per_unwritten", 0.0)), float(t.get("judge_below", judge_below)),
                          float(t.get("judge_min", judge_min)))

    @classmethod
    def load(cls, path: Path) -> "Decision":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the refusal decision {path}: {exc}; refit it with `cqqa calibrate`, "
                              "or delete it to use the default") from None
        return cls.from_dict(data, str(path), fallback=cls.default())

    @classmethod
    def default(cls) -> "Decision":
        text = resources.files("cqqa").joinpath("data", FILE).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text), "cqqa/data/decision.json")

    @classmethod
    def for_index(cls, index_dir: Path) -> "Decision":
        """The index's own calibration when it has one, else the default."""
        path = Path(index_dir) / FILE
        return cls.load(path) if path.exists() else cls.default()
