"""The reader as a judge of near misses: does the closest passage state what was asked?

A near miss is a question about a person or thing the articles write about, asking a fact they
do not give ("Who did Tesla partner with in 1886?" over an article on Tesla without that
paragraph). Its best sentence is on the right topic and scores like an answer, so similarity
alone quotes it. For the questions whose score leaves the decision unsure (below
`judge_below`, decision.py), the reader model is asked one yes/no question about the two
sentences of the best passage closest to the question, and its probability of "yes" (from the
first token's log-probabilities; one token is generated) must reach `judge_min`.

Measured with the bundled 1.5B reader on xquad-dev with one paragraph removed from each article
(docs/evaluation.md, *Near misses*): English near misses refused 36 -> 50 of 99 while answerable
questions refused 10 -> 11 of 500; it judges a third of English answers, each about 0.65 s of
the reader (1.4 s in the eval process, not yet explained). In Chinese it separates less well
(it says yes to on-topic sentences): there it adds what the unwritten terms
(absent_terms.unwritten_share) leave, 53 -> 60 -> 63 of 99 Chinese near misses.

The prompt lives here with the code that reads the reply. A server that fails leaves the
question unjudged: it is decided as before, never refused for the server's fault.
"""

from __future__ import annotations

from dataclasses import replace

from cqqa.errors import LLMError
from cqqa.models.llm import ChatClient

SYSTEM = "You judge whether a Chinese passage answers a question. Reply with one word: yes or no."
SENTENCES = 2  # of the best passage, the ones closest to the question, in reading order
YES, NO = frozenset({"yes", "是"}), frozenset({"no", "否"})


def judge_messages(question: str, passage: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Passage:\n{passage}\n\nQuestion: {question}\n\n"
                                        "Does the passage state the answer to the question? yes or no"}]


def judged_passage(sentence_scores: list[tuple[str, float]]) -> str:
    """The SENTENCES sentences closest to the question (Retrieval.sentence_scores of the best
    passage), in the order the passage reads them."""
    closest = sorted(range(len(sentence_scores)), key=lambda i: -sentence_scores[i][1])[:SENTENCES]
    return "".join(sentence_scores[i][0] for i in sorted(closest))


class Judge:
    def __init__(self, client: ChatClient, warn=lambda message: None):
        self.client = client
        self.warn = warn

    def yes(self, question: str, passage: str) -> float | None:
        """The probability that `passage` states the answer; None when the server fails."""
        try:
            chances = self.client.first_token(judge_messages(question, passage))
        except LLMError as exc:
            self.warn(f"the judge could not ask the reader ({exc}); decided by similarity alone")
            return None
        yes = sum(p for token, p in chances.items() if token in YES)
        no = sum(p for token, p in chances.items() if token in NO)
        return yes / (yes + no) if yes + no else None

    def verdict(self, retrieval, decision):
        """A search.Retrieval with the judge's verdict in its signals and `answerable`, when the
        decision is unsure of it (Decision.wants_judge); else the retrieval as it was."""
        if not retrieval.hits or not decision.wants_judge(retrieval.signals):
            return retrieval
        yes = self.yes(retrieval.plan.query, judged_passage(retrieval.sentence_scores(retrieval.hits[0])))
        if yes is None:
            return retrieval
        signals = replace(retrieval.signals, judged=yes)
        return replace(retrieval, signals=signals, answerable=decision.answerable(signals))
