"""The cross-lingual name bridge: romanised names in a question -> their Chinese forms in the corpus.

Names appear only in Chinese in the articles, but users type "Yin Qi", "Seres",
"Changan". Two sources of bridges:

* people, found in the corpus itself: words jieba tags as person names, and
  "<surname>X(X) 表示/认为/说/…" speaker patterns; each is keyed by its pinyin
  ("yin qi" and "yinqi"), so a new article's people are bridged automatically;
* a curated table, `data/aliases.toml`, for companies, brands, places and terms
  whose English names are not pinyin (Seres 赛力斯, AITO 问界, Bosch 博世 …).

A third, by sound: the corpus's transliterated Western names (约什·诺曼, 女神卡卡) are matched
to an English question's capitalised words (transliteration.py).

`expand(question)` returns the Chinese forms whose key occurs in the question as
whole words, case-insensitively, then those that sound like its other names; the lexical
query adds them. `subjects_in(text)`
lists the people and organisations a text mentions: what a follow-up question
inherits from the conversation (followup.py).
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources
from pathlib import Path

from cqqa.cedict import MONTHS_AND_DAYS, ordinary_words
from cqqa.index.transliteration import Transliterations, foreign_names
from cqqa.textnorm import HAN_COMMON, jieba, to_simplified

# The most common Chinese surnames (single characters), enough to recognise names in news text.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤印殷喻花佘"
)
SPEAKER = re.compile(
    "([" + "".join(sorted(SURNAMES)) + f"][{HAN_COMMON}]{{1,2}}?)(?:也|还|则|就)?(?:表示|认为|说|介绍|指出|谈到|谈道|描绘|看来)"
)


def _pinyin_keys(name: str) -> list[str]:
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(name)
    if not all(s.isascii() and s.isalpha() for s in syllables):
        return []
    surname, given = syllables[0], "".join(syllables[1:])
    return [f"{surname} {given}", f"{surname}{given}", " ".join(syllables)]


def find_people(texts: list[str]) -> set[str]:
    return set().union(*(find_names(text)[0] for text in texts)) if texts else set()


def find_names(text: str) -> tuple[set[str], set[str]]:
    """The people (Chinese names) and the transliterated foreign names a text writes, from one
    pass of jieba's part-of-speech tagger (the slowest step of a build after embedding)."""
    import jieba.posseg as posseg

    jieba()  # initialised quietly
    simplified = to_simplified(text)
    tagged = posseg.lcut(simplified)
    people = {m.group(1) for m in SPEAKER.finditer(simplified)}
    people.update(word for word, flag in tagged if flag == "nr" and 2 <= len(word) <= 3 and word[0] in SURNAMES)
    return people, foreign_names(text, tagged)


def curated_aliases() -> dict[str, dict[str, list[str]]]:
    """The curated table, by section (companies, places, terms)."""
    return tomllib.loads(resources.files("cqqa").joinpath("data/aliases.toml").read_text(encoding="utf-8"))


def curated_forms() -> set[str]:
    """Every Chinese form of the curated table."""
    return {form for section in curated_aliases().values() for forms in section.values() for form in forms}


# Capitalised words that open or shape a question, never a name to sound out.
NOT_NAMES = frozenset("how what who whom whose when where which why did does do is are was were has have had can could "
                      "would should will in on at of for from by to the a an and or according after before during "
                      "if i".split())
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:'s)?\b")


def _ordinary(word: str) -> bool:
    words = ordinary_words()
    return word in words or word.endswith("s") and word[:-1] in words


def names_to_sound_out(question: str, known: re.Pattern | None) -> list[str]:
    """The capitalised words of an English question that may be names the alias table does not
    know: not a question word, not already bridged, not a month or day."""
    covered = [m.span() for m in known.finditer(question.lower())] if known else []
    words = []
    for match in _CAPITALISED.finditer(question):
        word = re.sub(r"'s$", "", match.group(0))
        lower = word.lower()
        if (lower in NOT_NAMES or lower in MONTHS_AND_DAYS or word in words or _ordinary(lower)
                or any(a <= match.start() < b for a, b in covered)):
            continue
        words.append(word)
    return words


SUBJECT_SECTIONS = ("companies",)  # with the people found in the corpus: what a conversation is about


class NameBridge:
    def __init__(self, aliases: dict[str, list[str]], subjects: list[str] | None = None,
                 foreign: list[str] = ()):
        self.sounds = Transliterations(list(foreign))
        self.aliases = {key.lower(): sorted(set(forms)) for key, forms in aliases.items()}
        all_forms = {f for forms in self.aliases.values() for f in forms}
        self.subjects = sorted(all_forms if subjects is None else set(subjects) & all_forms)
        self._forms = sorted(all_forms, key=len, reverse=True)
        keys = sorted(self.aliases, key=len, reverse=True)  # longest first: "citic bank" before "citic"
        self._pattern = re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(k) for k in keys) + r")(?![a-z0-9])") \
            if keys else None

    @classmethod
    def build(cls, texts: list[str], people: set[str] | None = None, foreign: set[str] | None = None) -> "NameBridge":
        """The bridge for a corpus; `people` are find_people(texts) and `foreign` the texts'
        foreign_names when the caller already has them."""
        table = curated_aliases()
        aliases: dict[str, list[str]] = {k: list(v) for section in table.values() for k, v in section.items()}
        subjects = {f for name in SUBJECT_SECTIONS for forms in table.get(name, {}).values() for f in forms}
        corpus = to_simplified("\n".join(texts))
        for person in sorted(find_people(texts) if people is None else people):
            subjects.add(person)
            for key in _pinyin_keys(person):
                aliases.setdefault(key, []).append(person)
        # keep only forms that really occur in this corpus
        aliases = {k: [f for f in forms if f in corpus] for k, forms in aliases.items()}
        if foreign is None:
            foreign = set().union(*(foreign_names(text) for text in texts)) if texts else set()
        return cls({k: forms for k, forms in aliases.items() if forms}, sorted(subjects), sorted(foreign))

    def expand(self, question: str) -> list[str]:
        found: list[str] = []
        for match in self._pattern.finditer(question.lower()) if self._pattern else ():
            for form in self.aliases[match.group(1)]:
                if form not in found:
                    found.append(form)
        for form in self.sounded_out(question):
            if form not in found:
                found.append(form)
        return found

    def sounded_out(self, question: str) -> list[str]:
        """The corpus's transliterated names that sound like the question's unbridged names."""
        found: list[str] = []
        for word in names_to_sound_out(question, self._pattern):
            found.extend(form for form in self.sounds.lookup(word) if form not in found)
        return found

    def subjects_in(self, text: str) -> list[str]:
        """The people and organisations a text mentions, in Chinese: bridged from romanised
        names or written in Chinese. Places and topic terms are not subjects."""
        found = [form for form in self.expand(text) if form in self.subjects]
        simplified = to_simplified(text)
        for form in self._forms:
            if form in self.subjects and form in simplified and not any(form in longer for longer in found):
                found.append(form)
        return found

    def rewrite(self, question: str) -> str:
        """The question with each bridged name replaced by its Chinese forms (for the lexical query)."""
        sounded = self.sounded_out(question)
        if self._pattern is not None:
            question = self._pattern.sub(lambda m: " " + " ".join(self.aliases[m.group(1)]) + " ", question.lower())
        return " ".join([question, *sounded]) if sounded else question

    def english_names(self) -> dict[str, list[str]]:
        """Each Chinese form -> the English names it is known by, the preferred one first: the
        curated table's spelling ("Changan" before "Chang'an"), else the pinyin "Yin Qi"."""
        curated = [key for section in curated_aliases().values() for key in section]
        preferred = {key.lower(): key for key in reversed(curated)}
        names: dict[str, list[str]] = {}
        for key in sorted(self.aliases, key=lambda k: (k not in preferred, k.count(" ") != 1, k)):
            for form in self.aliases[key]:
                display = preferred.get(key) or key.title()
                names.setdefault(form, [])
                if display not in names[form]:
                    names[form].append(display)
        for form, displays in names.items():  # curated spellings first, in the table's order
            displays.sort(key=lambda d: curated.index(d) if d in curated else len(curated))
        return names

    def to_json(self) -> str:
        data = {"aliases": self.aliases, "subjects": self.subjects, "foreign": self.sounds.names}
        return json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "NameBridge":
        data = json.loads(text)
        return cls(data["aliases"], data["subjects"], data.get("foreign", []))

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "NameBridge":
        return cls.from_json(path.read_text(encoding="utf-8"))
