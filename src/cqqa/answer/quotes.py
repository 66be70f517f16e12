"""Which sentences of the retrieved passages the extractive answer quotes.

The quote is what the user reads, so it must hold the answer, not a sentence near it
(`cqqa eval --answers`: "quote∋evidence"). Three steps, each measured on the project's
evaluation set and on held-out CMRC 2018 and DRCD questions (docs/evaluation.md):

1. **Score** each sentence by its similarity to the question (the embedding model), plus what
   the question's form asks for: a sentence that writes the question's own year or number
   ("in 2024", "the 33618 system") gets IDENTIFIER_BONUS; one with a quantity when the question
   asks how many / how much, or a date when it asks when, gets ANSWER_TYPE_BONUS; the sentence
   retrieval found giving the asked person's title ("Who is Yin Qi?", roles.py) gets ROLE_BONUS.
2. **Choose** the sentences within QUOTE_MARGIN of the best, at most MAX_QUOTES, at most
   MAX_QUOTES_PER_PASSAGE from one passage. A clause that ends in a semicolon (the sentence
   table splits there) runs on to the end of its sentence: a quote is a whole sentence.
3. **Complete** each chosen sentence with the ones it needs to be understood (`companions`):
   Chinese news attributes a quotation in the sentence around it ("“……。”张兴海对于未来汽车的
   定位言简意赅。"), a sentence opening with 其中 / 此外 / 因此 / 但 continues the one before, and
   one opening with a pronoun (他, 她们, 该, 这一, 此) needs the one before it to say whom it
   means: "他也以 39 岁高龄参加超级碗而成为史上年龄最大的四分卫。" answers "Who is the oldest
   quarterback?" only with the sentence naming 培顿·曼宁 before it.

Measured on xquad-dev's answerable questions (English and Chinese) and the project set, from the
same retrievals (docs/evaluation.md, *quotes that hold the answer*): the pronoun rule quotes the
evidence in 427 and 411 of 490 answers (were 421 and 403), the project set unchanged at 159 of
169, for 6 and 2 more characters quoted (median). A QUOTE_MARGIN of 0.08 would add 10 and 4
more but quote 8 more characters, and each quote is one more translation for an English asker:
the whole English answer took 7.45 s instead of 6.35 s (p50, 40 xquad-dev questions).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from cqqa.textnorm import CLAUSE_ENDS, CLOSING_QUOTES, DOUBLE_QUOTES_CLOSE, DOUBLE_QUOTES_OPEN, IDENTIFIER

MAX_PASSAGES = 3  # passages that may be quoted
MAX_QUOTES = 3  # sentences chosen by score (their companions come on top)
MAX_QUOTES_PER_PASSAGE = 2
QUOTE_MARGIN = 0.06  # a sentence is chosen if it is this close to the best sentence's score
MIN_QUOTE_CHARS = 6  # shorter fragments ("他说。") say nothing on their own
COMPANION_HOPS = 2  # a companion may bring its own: sentence -> quotation -> "花伟程介绍。"
IDENTIFIER_BONUS = 0.3  # times the share of the question's identifiers the sentence writes
ANSWER_TYPE_BONUS = 0.1
ROLE_BONUS = 0.3  # a guest list giving the title scores 0.2-0.4 against "Who is X?", X's own words 0.5

# A framing sentence announces what another says: short ("张兴海对于未来汽车的定位言简意赅。",
# "李书福描绘的，则是一个更加立体的出行格局。"), a question the article then answers, or a
# sentence ending in a colon. Quoted alone it tells the reader nothing.
FRAMING_MAX_CHARS = 24
FRAMING_END = re.compile(rf"[：:？?]\s*[{CLOSING_QUOTES}]*\s*$")
QUOTATION_START = re.compile(rf"\s*[{DOUBLE_QUOTES_OPEN}]")
QUOTATION_END = re.compile(rf"[{DOUBLE_QUOTES_CLOSE}]\s*$")
# "朱华荣说，……", "在张兴海看来，……": the speaker comes first, the speech verb within 20 characters.
SPEAKER_FIRST = re.compile(r"[^，,。：:“”「」]{1,20}?(?:表示|[说說]|介[绍紹]|[认認][为為]|指出|[强強][调調]|坦言|[谈談]到|看[来來])")
CONTINUATION = re.compile(r"\s*(?:其中|此外|因此|所以|但|而|[对對]此|同[时時])")
# "他也以 39 岁高龄……", "这一街区……", "该公司……": whom it means is in the sentence before.
PRONOUN_FIRST = re.compile(r"\s*(?:[他她它][们們]?|该|該|这|這|此(?!外)|其(?![他它实實中次]))")
CLAUSE_END = re.compile(rf"[{CLAUSE_ENDS}]\s*$")

NUMBER = re.compile(r"(?<![\d.])\d(?:[\d.]*\d)?")  # a whole number as written, not ending in a dot
ASKS_QUANTITY = re.compile(r"多少|几|幾|how (?:many|much|fast|big|large)|what (?:percentage|share)", re.I)
ASKS_TIME = re.compile(r"什[么麼]时候|什[么麼]時候|何[时時]|哪一?年|\bwhen\b|what year", re.I)
QUANTITY = re.compile(r"\d|[两兩一二三四五六七八九十百千]+[多余餘]?[人个個家项項辆輛元倍座站]")
DATE = re.compile(r"\d{3,4}年|\d+月|\d+日|年代|世[纪紀]")


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def is_framing(sentence: str) -> bool:
    text = compact(sentence)
    return len(text) <= FRAMING_MAX_CHARS or bool(FRAMING_END.search(text))


def is_quotation(sentence: str) -> bool:
    return bool(QUOTATION_START.match(sentence) and QUOTATION_END.search(sentence))


def score_sentences(question: str, sentences: list[tuple[str, float]],
                    roles: Collection[str] = ()) -> list[tuple[str, float]]:
    """(sentence, similarity) -> (sentence, score): the similarity plus the bonuses for what the
    question's form asks for (step 1 above); `roles`: the sentences giving the asked person's title."""
    question = unicodedata.normalize("NFKC", question)
    identifiers = set(IDENTIFIER.findall(question))
    quantity, time = bool(ASKS_QUANTITY.search(question)), bool(ASKS_TIME.search(question))

    def bonus(text: str) -> float:
        text = unicodedata.normalize("NFKC", text)
        score = 0.0
        if identifiers:
            written = set(NUMBER.findall(text))
            score += IDENTIFIER_BONUS * len(identifiers & written) / len(identifiers)
        if (quantity and QUANTITY.search(text)) or (time and DATE.search(text)):
            score += ANSWER_TYPE_BONUS
        return score

    return [(text, similarity + bonus(text) + (ROLE_BONUS if text in roles else 0.0)) for text, similarity in sentences]


def whole_sentences(sentences: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """A passage's units joined into whole sentences: a clause ending in a semicolon runs on
    into the next one. Scored by its best clause."""
    out: list[tuple[str, float]] = []
    for text, score in sentences:
        if out and CLAUSE_END.search(out[-1][0]):
            out[-1] = (out[-1][0] + text, max(out[-1][1], score))
        else:
            out.append((text, score))
    return out


def companions(texts: list[str], i: int) -> list[int]:
    """The sentences that sentence i of a passage needs beside it to be understood:
    - a framing sentence needs what it frames: the quotation before it, else the sentence after;
    - a sentence opening with its speaker ("朱华荣说，……") needs the quotation just before it;
    - a sentence followed by a quotation needs it (what was said, after who said it), but a
      quotation does not bring the next quotation: that one may be the next speaker's ("“……”
      张兴海对于未来汽车的定位言简意赅。" follows Yin Qi's words in the article);
    - a quotation needs its attribution after it when that is short ("公司董事长花伟程介绍。");
    - a sentence followed by one continuing it (其中, 此外, 因此, 但 …) needs that one;
    - a sentence opening with a pronoun (他, 该, 这 …) needs the one before it."""
    before = texts[i - 1] if i > 0 else None
    after = texts[i + 1] if i + 1 < len(texts) else None
    text, out = texts[i], []
    quotation = is_quotation(text)
    if before and is_quotation(before) and (is_framing(text) or SPEAKER_FIRST.match(text)):
        out.append(i - 1)
    elif after and is_framing(text) and not quotation:
        out.append(i + 1)
    elif before and PRONOUN_FIRST.match(text):
        out.append(i - 1)
    if after and i + 1 not in out and ((is_quotation(after) and not quotation) or CONTINUATION.match(after)
                                       or (quotation and is_framing(after))):
        out.append(i + 1)
    return out


def select_quotes(passages: list[list[tuple[str, float]]]) -> list[tuple[int, str]]:
    """(passage position, sentence) pairs to quote, in passage order then reading order.
    `passages` holds each passage's sentences with their score (`score_sentences`)."""
    passages = [whole_sentences(sentences) for sentences in passages[:MAX_PASSAGES]]
    scored = [(score, p, i, text) for p, sentences in enumerate(passages)
              for i, (text, score) in enumerate(sentences) if len(text.strip()) >= MIN_QUOTE_CHARS]
    if not scored:
        return []
    best = max(s[0] for s in scored)
    texts = [[text for text, _ in sentences] for sentences in passages]
    chosen, seen, per_passage, hops = [], set(), {}, {}
    for score, p, i, text in sorted(scored, key=lambda s: -s[0]):
        if score < best - QUOTE_MARGIN or len(chosen) == MAX_QUOTES:
            break
        if compact(text) in seen or per_passage.get(p, 0) == MAX_QUOTES_PER_PASSAGE:
            continue
        seen.add(compact(text))
        per_passage[p] = per_passage.get(p, 0) + 1
        chosen.append((p, i, text))
    for p, i, _ in chosen:  # grows while it is read: a companion may bring its own
        if hops.get((p, i), 0) == COMPANION_HOPS:
            continue
        for j in companions(texts[p], i):
            text = texts[p][j]
            if compact(text) not in seen:
                seen.add(compact(text))
                hops[(p, j)] = hops.get((p, i), 0) + 1
                chosen.append((p, j, text))
    return [(p, text) for p, _, text in sorted(chosen)]
