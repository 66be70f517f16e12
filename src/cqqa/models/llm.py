"""Optional generative answers through any OpenAI-compatible chat endpoint.

Configured by environment variables (nothing is sent anywhere unless CQQA_LLM_BASE_URL is set):

| variable          | example                      | meaning                                        |
|-------------------|------------------------------|------------------------------------------------|
| CQQA_LLM_BASE_URL | http://127.0.0.1:8080/v1     | the server's base URL (llama.cpp, Ollama, ...) |
| CQQA_LLM_MODEL    | qwen2.5-7b-instruct          | model name sent with each request              |
| CQQA_LLM_API_KEY  | (empty)                      | sent as a Bearer token when set                |
| CQQA_LLM_TIMEOUT  | 60                           | seconds for the whole reply                    |

Two uses: the reader translates quotes (reader.py); with CQQA_LLM_MODE=generate the model
receives the numbered passages and writes an answer, whose citations the project attaches and
checks itself (grounding.py), never trusting the model's markers. Each prompt lives with the code
that checks what the model wrote: translation in reader.py, answers in grounding.py, follow-up
rewrites in retrieve/followup.py; this module only talks to the server. A time-out, an HTTP error or
a malformed reply falls back to the extractive answer with a one-line notice (assistant.py).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator

import httpx

from cqqa.config import LLMSettings
from cqqa.errors import LLMError

class ChatClient:
    """Streams a chat completion: `stream(messages)` yields the text as it arrives."""

    def __init__(self, settings: LLMSettings):
        self.settings = settings

    @property
    def where(self) -> str:
        return f"the language model at {self.settings.base_url}"

    def _request(self) -> dict:
        """What every request sends besides its body: the URL, the key, the time limit."""
        s = self.settings
        return {"url": f"{s.base_url}/chat/completions",
                "headers": {"Authorization": f"Bearer {s.api_key}"} if s.api_key else {},
                "timeout": httpx.Timeout(s.timeout, connect=min(5.0, s.timeout))}

    def _unreachable(self, exc: httpx.HTTPError) -> LLMError:
        if isinstance(exc, httpx.TimeoutException):
            return LLMError(f"{self.where} did not answer within {self.settings.timeout:g} s (CQQA_LLM_TIMEOUT)")
        return LLMError(f"could not reach {self.where}: {exc}")

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        s = self.settings
        body = {"model": s.model or "default", "messages": messages, "stream": True, "temperature": 0}
        if max_tokens:
            body["max_tokens"] = max_tokens
        if s.grammar:  # a llama.cpp extension; only set for servers known to take it
            body["grammar"] = s.grammar
        deadline = time.monotonic() + s.timeout
        where = self.where
        try:
            with httpx.stream("POST", json=body, **self._request()) as reply:
                if reply.status_code != 200:
                    detail = reply.read().decode("utf-8", "replace")[:200]
                    raise LLMError(f"{where} answered HTTP {reply.status_code}: {detail}")
                for line in reply.iter_lines():
                    if time.monotonic() > deadline:
                        raise LLMError(f"{where} did not finish within {s.timeout:g} s (CQQA_LLM_TIMEOUT)")
                    text = _delta(line, where)
                    if text is None:
                        return
                    if text:
                        yield text
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None

    def complete(self, messages: list[dict]) -> str:
        return "".join(self.stream(messages))

    def first_token(self, messages: list[dict], top: int = 20) -> dict[str, float]:
        """The model's first reply token: each candidate (stripped, lower-cased) with its
        probability, from the server's top log-probabilities; a server that gives none counts
        what it wrote as certain. No grammar is sent: this asks for a choice, not a text."""
        body = {"model": self.settings.model or "default", "messages": messages, "max_tokens": 1,
                "temperature": 0, "logprobs": True, "top_logprobs": top}
        where = self.where
        try:
            reply = httpx.post(json=body, **self._request())
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if reply.status_code != 200:
            raise LLMError(f"{where} answered HTTP {reply.status_code}: {reply.text[:200]}")
        try:
            choice = reply.json()["choices"][0]
            content = (choice.get("logprobs") or {}).get("content") or []
            if not content:
                return {(choice["message"].get("content") or "").strip().lower(): 1.0}
            chances: dict[str, float] = {}
            for candidate in content[0].get("top_logprobs") or [content[0]]:
                token = candidate["token"].strip().lower()
                chances[token] = chances.get(token, 0.0) + math.exp(candidate["logprob"])
            return chances
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise LLMError(f"{where} sent a malformed reply: {reply.text[:120]!r}") from None


def _delta(line: str, where: str) -> str | None:
    """The text in one server-sent-event line; None at [DONE]; "" for anything without text."""
    line = line.strip()
    if not line.startswith("data:"):
        return ""  # blank separators, comments, "event:" lines
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        choice = json.loads(data)["choices"][0]
        content = (choice.get("delta") or choice.get("message") or {}).get("content")
    except (json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError):
        raise LLMError(f"{where} sent a malformed reply: {data[:120]!r}") from None
    return content or ""
