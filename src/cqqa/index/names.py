"""The cross-lingual name bridge: romanised names in a question -> their Chinese forms in the corpus.

Names appear only in Chinese in the articles, but users type "Yin Qi", "Seres",
"Changan". Two sources of bridges:

* people, found in the corpus itself: words jieba tags as person names, and
  "<surname>X(X) 表示/认为/说/…" speaker patterns; each is keyed by its pinyin
  ("yin qi" and "yinqi"), so a new article's people are bridged automatically;
* a curated table, `data/aliases.toml`, for companies, brands, places and terms
  whose English names are not pinyin (Seres 赛力斯, AITO 问界, Bosch 博世 …).

`expand(question)` returns the Chinese forms whose key occurs in the question as
whole words, case-insensitively; the lexical query adds them. `subjects_in(text)`
lists the people and organisations a text mentions: what a follow-up question
inherits from the conversation (followup.py).
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources
from pathlib import Path

from cqqa.textnorm import jieba, to_simplified

# The most common Chinese surnames (single characters), enough to recognise names in news text.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤印殷喻花佘"
)
SPEAKER = re.compile(
    "([" + "".join(sorted(SURNAMES)) + r"][\u4e00-\u9fff]{1,2}?)(?:也|还|则|就)?(?:表示|认为|说|介绍|指出|谈到|谈道|描绘|看来)"
)


def _pinyin_keys(name: str) -> list[str]:
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(name)
    if not all(s.isascii() and s.isalpha() for s in syllables):
        return []
    surname, given = syllables[0], "".join(syllables[1:])
    return [f"{surname} {given}", f"{surname}{given}", " ".join(syllables)]


def find_people(texts: list[str]) -> set[str]:
    import jieba.posseg as posseg

    jieba()  # initialised quietly
    found = set()
    for text in texts:
        simplified = to_simplified(text)
        found.update(m.group(1) for m in SPEAKER.finditer(simplified))
        for word, flag in posseg.lcut(simplified):
            if flag == "nr" and 2 <= len(word) <= 3 and word[0] in SURNAMES:
                found.add(word)
    return found


def curated_aliases() -> dict[str, dict[str, list[str]]]:
    """The curated table, by section (companies, places, terms)."""
    return tomllib.loads(resources.files("cqqa").joinpath("data/aliases.toml").read_text(encoding="utf-8"))


def curated_forms() -> set[str]:
    """Every Chinese form of the curated table."""
    return {form for section in curated_aliases().values() for forms in section.values() for form in forms}


SUBJECT_SECTIONS = ("companies",)  # with the people found in the corpus: what a conversation is about


class NameBridge:
    def __init__(self, aliases: dict[str, list[str]], subjects: list[str] | None = None):
        self.aliases = {key.lower(): sorted(set(forms)) for key, forms in aliases.items()}
        all_forms = {f for forms in self.aliases.values() for f in forms}
        self.subjects = sorted(all_forms if subjects is None else set(subjects) & all_forms)
        self._forms = sorted(all_forms, key=len, reverse=True)
        keys = sorted(self.aliases, key=len, reverse=True)  # longest first: "citic bank" before "citic"
        self._pattern = re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(k) for k in keys) + r")(?![a-z0-9])") \
            if keys else None

    @classmethod
    def build(cls, texts: list[str], people: set[str] | None = None) -> "NameBridge":
        """The bridge for a corpus; `people` are find_people(texts) when the caller already has them."""
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
        return cls({k: forms for k, forms in aliases.items() if forms}, sorted(subjects))

    def expand(self, question: str) -> list[str]:
        if self._pattern is None:
            return []
        found: list[str] = []
        for match in self._pattern.finditer(question.lower()):
            for form in self.aliases[match.group(1)]:
                if form not in found:
                    found.append(form)
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
        if self._pattern is None:
            return question
        return self._pattern.sub(lambda m: " " + " ".join(self.aliases[m.group(1)]) + " ", question.lower())

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

    def save(self, path: Path) -> None:
        data = {"aliases": self.aliases, "subjects": self.subjects}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "NameBridge":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["aliases"], data["subjects"])
