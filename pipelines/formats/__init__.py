"""Source formats: the one table of the ``format:`` names a sources file may use.

Each format is one class in one module (the interface: ``pipelines.formats.base``). Adding a
format is one new module here and one line in ``FORMATS``; nothing else in the job changes.
"""

from __future__ import annotations

from pipelines.formats.base import SourceFormat
from pipelines.formats.code_tree import CodeTree
from pipelines.formats.jsonl import Jsonl
from pipelines.formats.parquet import Parquet
from pipelines.formats.text import Text
from pipelines.formats.tfds import Tfds
from pipelines.formats.warc import Warc
from pipelines.formats.wet import Wet

#: ``format:`` name -> its class, in the order error messages list them.
FORMATS: dict[str, type[SourceFormat]] = {
    "jsonl": Jsonl,
    "parquet": Parquet,
    "code_tree": CodeTree,
    "tfds": Tfds,
    "wet": Wet,
    "warc": Warc,
    "text": Text,
}


def get(name: str) -> SourceFormat:
    """The format called ``name`` (formats are stateless: a fresh instance each call)."""
    return FORMATS[name]()
