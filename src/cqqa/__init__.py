"""cqqa: bilingual question answering over Chinese articles on Chongqing's
intelligent connected new-energy-vehicle industry.

Public API (small on purpose):

    from cqqa import build_index, load_index, Searcher
"""

from cqqa.config import VERSION as __version__, stay_local
from cqqa.errors import CqqaError

stay_local()  # before any library is imported: nothing leaves the machine (config.PHONE_HOME_OFF)

__all__ = ["CqqaError", "__version__", "build_index", "load_index", "Searcher"]


def __getattr__(name):  # lazy: importing cqqa must not import torch
    if name == "build_index":
        from cqqa.index.build import build_index

        return build_index
    if name == "load_index":
        from cqqa.index.stores.local import load_index

        return load_index
    if name == "Searcher":
        from cqqa.retrieve.search import Searcher

        return Searcher
    raise AttributeError(name)
