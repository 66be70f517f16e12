"""A small OpenAI-compatible chat server, run as a real process by tests/test_llm.py.

    python tests/fake_openai_server.py PORT

It speaks POST /v1/chat/completions, streamed (server-sent events) or not. The
request's "model" picks a behaviour, so one server covers every case:

    cite       streams an answer citing [1] and a marker [9] that points at no passage;
               the answer repeats the first words of passage [1] from the prompt
    nocite     streams an answer without any citation marker
    slow       waits 5 s before answering
    stall      sends one piece, then waits 5 s
    malformed  sends a data line that is not JSON
    error      answers HTTP 500
    rewrite    answers a rewrite prompt with "What did Li Shufu say about safety?"
    ground     the first sentence of passage [1] marked [3], then a sentence no passage supports

A judge request (retrieve/judge.py: "You judge ...", one token with its log-probabilities) is
answered "yes" (0.8) or "no" (0.2) when the passage holds the question's last word before "?",
the other way round otherwise; model "nologprobs" answers the plain word without them.

A translation request (the reader's system prompt, "You translate ...") is answered by model:

    cite       "Translation: " + the English words and the numbers of the input (passes every check)
    wrongnumber  the same with every number multiplied by 100 ("206.6万" read as millions)
    chinese    the input itself (Chinese left untranslated)
    dropname   "The company did well." (the names given are left out)

It prints "ready" once listening.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _pieces(body: dict) -> list[str]:
    model = body.get("model")
    system = body["messages"][0]["content"]
    prompt = body["messages"][-1]["content"]
    if system.startswith("You translate"):
        source = prompt.split("\n", 1)[-1]
        numbers = re.findall(r"\d[\d,]*(?:\.\d+)?", source)
        words = re.findall(r"[A-Za-z][A-Za-z']+", source)
        if model == "wrongnumber":
            numbers = [f"{float(n.replace(',', '')) * 100:,.0f}" for n in numbers]
        if model == "chinese":
            return [source]
        if model == "dropname":
            return ["The company ", "did well."]
        return ["Translation: ", " ".join(words), " ", ", ".join(numbers), "."]
    if system.startswith("Rewrite"):
        return ["What did Li Shufu ", "say about safety?"] if model == "rewrite" else ["?"]
    if model == "nocite":
        return ["The articles ", "say many things."]
    if model == "ground":
        sentence = re.search(r"\[1\] [^\n]*\n([^。]*。)", prompt, re.S).group(1)
        return [sentence, " [3] ", "Seres also builds rockets on the Moon [1]."]
    first = re.search(r"\[1\] [^\n]*\n(.{8})", prompt, re.S)
    quoted = first.group(1) if first else "nothing"
    return ["According to the report, ", f"it says “{quoted}…” [1]", ", and more [9]."]


def _judged(body: dict) -> dict:
    prompt = body["messages"][-1]["content"]
    passage = prompt.split("Passage:\n", 1)[1].split("\n\nQuestion:", 1)[0]
    asked = re.search(r"(\w+)\?\n", prompt).group(1)
    first, second = ("yes", "no") if asked in passage else ("no", "yes")
    if body.get("model") == "nologprobs":
        return {"message": {"role": "assistant", "content": first}}
    top = [{"token": first, "logprob": math.log(0.8)}, {"token": " " + second.capitalize(), "logprob": math.log(0.2)}]
    return {"message": {"role": "assistant", "content": first},
            "logprobs": {"content": [{"token": first, "logprob": math.log(0.8), "top_logprobs": top}]}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model = body.get("model")
        if model == "error":
            payload = b'{"error": {"message": "model exploded"}}'
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if model == "slow":
            time.sleep(5)
        pieces = _pieces(body)
        if not body.get("stream"):
            choice = {"message": {"role": "assistant", "content": "".join(pieces)}}
            if body["messages"][0]["content"].startswith("You judge"):
                choice = _judged(body)
            payload = json.dumps({"choices": [choice]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload.encode())))
            self.end_headers()
            self.wfile.write(payload.encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for i, piece in enumerate(pieces):
            if model == "malformed" and i == 1:
                self._send("data: {this is not json\n\n")
                return
            if model == "stall" and i == 1:
                time.sleep(5)
            chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            self._send(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n")
            time.sleep(0.02)
        self._send("data: [DONE]\n\n")

    def _send(self, text: str) -> None:
        self.wfile.write(text.encode("utf-8"))
        self.wfile.flush()


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
