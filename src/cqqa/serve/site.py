"""What the chat says it searches: its title, a line of description and example questions.

From, field by field, the first that gives one:
1. settings: CQQA_TITLE, CQQA_DESCRIPTION, CQQA_EXAMPLES (questions separated by "|");
2. `site.toml` in the source folder, beside the articles it describes (`title`, `description`,
   `examples = [...]`): this project's own is docs_src/site.toml;
3. the index being served: "cqqa — ask these N articles" and the articles' titles; no examples.
So a deployment over other articles never presents itself as this project's.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from dataclasses import dataclass

from cqqa.errors import ConfigError, CqqaError

FILE = "site.toml"
TITLES_SHOWN = 6


@dataclass(frozen=True)
class Site:
    title: str
    description: str
    examples: tuple[str, ...] = ()


def from_file(folder: Path) -> dict:
    """The texts `site.toml` in a source folder gives ({} without one)."""
    path = Path(folder) / FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix it or delete it") from None
    examples = data.get("examples", [])
    if not isinstance(examples, list) or not all(isinstance(q, str) for q in examples):
        raise ConfigError(f'{path}: examples must be a list of questions, e.g. examples = ["…", "…"]')
    return {"title": str(data.get("title", "")), "description": str(data.get("description", "")),
            "examples": tuple(q.strip() for q in examples if q.strip())}


def short(title: str, limit: int = 30) -> str:
    """A title as the page lists it: a first line used as the title can be a whole paragraph."""
    title = " ".join(title.split())
    return title if len(title) <= limit else title[:limit - 1].rstrip() + "…"


def from_index(manifest: dict | None) -> dict:
    docs = (manifest or {}).get("documents", [])
    if not docs:
        return {"title": "cqqa — ask your articles",
                "description": "Ask in English or Chinese; every answer quotes the articles and cites them."}
    titles = [short(d.get("title") or d["doc_id"]) for d in docs]
    shown = "; ".join(f"“{t}”" for t in titles[:TITLES_SHOWN]) + (f" and {len(titles) - TITLES_SHOWN} more"
                                                                   if len(titles) > TITLES_SHOWN else "")
    return {"title": f"cqqa — ask these {len(docs)} article{'s' * (len(docs) != 1)}",
            "description": f"Searches {shown}. Ask in English or Chinese; every answer quotes the articles and "
                           "cites them."}


def site_for(settings, versions=None) -> Site:
    """The site's texts for `settings`; `versions` (index/stores/) for the derived ones."""
    given = {"title": settings.site_title, "description": settings.site_description,
             "examples": tuple(settings.site_examples)}
    filed = from_file(settings.source_dir)
    fields = {}
    for key in ("title", "description", "examples"):
        fields[key] = given[key] or filed.get(key)
    if not (fields["title"] and fields["description"]):
        try:
            manifest = versions.manifest() if versions is not None else None
        except CqqaError:  # no index yet (built while the server starts), or the store is unreachable
            manifest = None
        derived = from_index(manifest)
        fields = {k: v or derived.get(k, ()) for k, v in fields.items()}
    return Site(fields["title"], fields["description"], tuple(fields["examples"] or ()))
