"""The reader as a judge of near misses: does the closest passage state what was asked?

A near miss is a question about a person or thing the articles write about, asking a fact they
do not give ("Who did Tesla partner with in 1886?" over an article on Tesla without that
paragraph). Its best sentence is on the right topic and scores like an answer, so similarity
alone quotes it. For the questions whose score leaves the decision unsure (below
`judge_below`, decision.py), the reader model is asked one yes/no question about the two
sentences of the best passage closest to the question, and its probability of "yes" (from the
first token's log-probabilities; one token is generated) must reach `judge_min`.

Measured with the bundled 1.5B reader on xquad-dev with one paragraph removed from each article
(docs/evaluation.md, *Near misses*): English near misses refused 36 -> 55 of 99 while answerable
questions refused 10 -> 12 of 500; it judges a third of English answers, each about 1.1 s of
the reader on 2 cores (the prefill of a prompt the server has not seen). In Chinese it separates
less well (it says yes to on-topic sentences): there it adds what the unwritten terms
(absent_terms.unwritten_share) leave, 53 -> 60 -> 63 of 99 Chinese near misses.

An English question is asked after six worked examples (SHOTS: sentences of the seed articles,
three that answer and three near misses, as earlier chat turns; a constant prefix the reader's
server keeps in its cache, so they cost no time after the first). Offline, on the 202 English
questions the product judges on xquad-dev's near misses, at P(yes) below 0.45 they refuse 19 of
57 near misses and 2 of 145 answerable questions, where the bare prompt refuses 20 and 9; so
English `judge_min` is 0.45 with them (was 0.35). A Chinese question is asked bare: with the
examples its 94 judged questions separate worse (AUC 0.750 vs 0.809).

The prompt lives here with the code that reads the reply. A server that fails leaves the
question unjudged: it is decided as before, never refused for the server's fault.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from cqqa.errors import LLMError
from cqqa.models.llm import ChatClient

SYSTEM = "You judge whether a Chinese passage answers a question. Reply with one word: yes or no."
SENTENCES = 2  # of the best passage, the ones closest to the question, in reading order
YES, NO = frozenset({"yes", "是"}), frozenset({"no", "否"})


# (passage, question, reply): from the seed articles, never from a benchmark; a near miss is on
# the passage's topic and asks what it does not give.
SHOTS = (
    ("长安汽车今年前三季度累计销量为206.6万辆，同比增长8.46%。",
     "How many vehicles did Changan sell in the first three quarters?", "yes"),
    ("长安汽车今年前三季度累计销量为206.6万辆，同比增长8.46%。",
     "How many vehicles did Changan export in the first three quarters?", "no"),
    ("博世氢动力系统（重庆）有限公司由博世集团与庆铃汽车集团于2021年3月共同组建。",
     "When did Bosch Hydrogen start mass production?", "no"),
    ("博世氢动力系统（重庆）有限公司由博世集团与庆铃汽车集团于2021年3月共同组建。", "博世氢动力是哪两家公司组建的？", "yes"),
    ("赛力斯集团董事长张兴海表示，这标志着赛力斯与华为的合作关系已升级为“业务+股权”的全面战略合作。",
     "赛力斯今年卖了多少辆车？", "no"),
    ("9月28日上午，重庆市召开推动智能网联新能源汽车之都建设座谈会。", "When was the symposium held?", "yes"),
)


def _ask(question: str, passage: str) -> dict:
    return {"role": "user", "content": f"Passage:\n{passage}\n\nQuestion: {question}\n\n"
                                       "Does the passage state the answer to the question? yes or no"}


def judge_messages(question: str, passage: str, lang: str = "en") -> list[dict]:
    """The request: for an English question (`lang`), the worked examples come first."""
    messages = [{"role": "system", "content": SYSTEM}]
    if lang == "en":
        for shown, asked, reply in SHOTS:
            messages += [_ask(asked, shown), {"role": "assistant", "content": reply}]
    return messages + [_ask(question, passage)]


def judged_passage(sentence_scores: list[tuple[str, float]]) -> str:
    """The SENTENCES sentences closest to the question (Retrieval.sentence_scores of the best
    passage), in the order the passage reads them."""
    closest = sorted(range(len(sentence_scores)), key=lambda i: -sentence_scores[i][1])[:SENTENCES]
    return "".join(sentence_scores[i][0] for i in sorted(closest))


class Judge:
    def __init__(self, client: ChatClient, warn=lambda message: None):
        self.client = client
        self.warn = warn
        self.warming: threading.Thread | None = None  # warm(): the request holding the prefix

    def yes(self, question: str, passage: str, lang: str = "en") -> float | None:
        """The probability that `passage` states the answer; None when the server fails."""
        if self.warming is not None:  # its prefix, once in the server's cache, is this one's too
            self.warming.join()
        try:
            chances = self.client.first_token(judge_messages(question, passage, lang))
        except LLMError as exc:
            self.warn(f"the judge could not ask the reader ({exc}); decided by similarity alone")
            return None
        yes = sum(p for token, p in chances.items() if token in YES)
        no = sum(p for token, p in chances.items() if token in NO)
        return yes / (yes + no) if yes + no else None

    def warm(self) -> threading.Thread:
        """Ask one worked example in the background, so that the server holds the English prompt's
        constant prefix (the worked examples) before the first asker needs it: their first prefill
        took 7.5 s of the bundled reader on 2 cores; after it a judgement costs only its own
        question and passage (1.1-1.7 s). A failure is not reported here; the first real
        question reports its own."""
        shown, asked, _ = SHOTS[0]

        def ask() -> None:
            try:
                self.client.first_token(judge_messages(asked, shown, "en"))
            except LLMError:
                pass

        self.warming = threading.Thread(target=ask, name="cqqa-judge-warm", daemon=True)
        self.warming.start()
        return self.warming

    def verdict(self, retrieval, decision):
        """A search.Retrieval with the judge's verdict in its signals and `answerable`, when the
        decision is unsure of it (Decision.wants_judge); else the retrieval as it was."""
        if not retrieval.hits or not decision.wants_judge(retrieval.signals):
            return retrieval
        yes = self.yes(retrieval.plan.query, judged_passage(retrieval.sentence_scores(retrieval.hits[0])),
                       retrieval.signals.lang)
        if yes is None:
            return retrieval
        signals = replace(retrieval.signals, judged=yes)
        return replace(retrieval, signals=signals, answerable=decision.answerable(signals))
