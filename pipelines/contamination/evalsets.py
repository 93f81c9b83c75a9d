"""Evaluation sets: the YAML that names them, and their records -> examples or rejects.

A small YAML, shaped like a sources file (paths relative to it)::

    sets:
      triviaqa:
        format: jsonl                 # jsonl, parquet or tfds (pipelines.formats)
        path: triviaqa/dev.jsonl
        id_field: question_id         # default: id (missing: a hash of file + record)
        text_fields: [question, answer]   # joined by a newline, in this order
      lambada:
        {format: tfds, name: "lambada", split: test, text_fields: [text]}

Reading goes through the corpus job's formats (``pipelines.formats``), so an evaluation record
has the same failure policy as a corpus record: a line that is not JSON, a wrong-typed id, an
unreadable file each become a ``Reject`` naming the file and record. The first text field is
the format's ``text_field``; the others ride along as kept fields (``Document.metadata``), and a
record missing one of them is a ``missing_text`` reject naming it. A later example with the id
of an earlier one in the same set is a ``duplicate_id`` reject (``first_by_id``). Pure, no Beam.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Iterator

import numpy as np
import yaml

from mixtures import component_name_problem
from palmkit.errors import UserError
from palmkit.records import Document, Reason, Reject
from pipelines import formats, fs
from pipelines.formats.base import SourceSpec
from pipelines.validate import validate

#: Formats an evaluation set may use: records with fields (not code trees or web archives).
EVAL_FORMATS = ("jsonl", "parquet", "tfds")
#: YAML keys of a set besides its format's own (``path``; ``name``/``split``/``data_dir``).
SET_KEYS = frozenset({"format", "id_field", "text_fields"})
#: An evaluation example longer than this is a ``too_large`` reject (benchmarks are short).
MAX_EXAMPLE_BYTES = 1 << 20


class EvalSetError(UserError):
    """An evaluation-sets file that cannot be used; names the file, set and problem."""


@dataclasses.dataclass(frozen=True)
class EvalSet:
    name: str
    text_fields: tuple[str, ...]
    spec: SourceSpec  # component = the set's name; text_field = text_fields[0]


@dataclasses.dataclass
class Example:
    """One evaluation example, hashed. ``grams``: its distinct n-gram hashes (sorted int64) at
    length ``gram_len`` (``n``, or its unit count when shorter); ``long_grams``: the same for
    ``--remove`` at ``--remove-ngram`` (an example of n to remove-ngram units: the whole
    example as one gram; empty when shorter than ``n``, so "yes" removes nothing)."""

    set: str
    id: str
    source: str
    record: int
    units: int
    gram_len: int
    grams: np.ndarray
    long_grams: np.ndarray
    long_len: int = 0  # gram length of long_grams (--remove-ngram, or the unit count if shorter)


def load_eval_sets(path: str) -> list[EvalSet]:
    """Read and check the YAML (every path matched, every option known). ``EvalSetError``."""
    try:
        data = yaml.safe_load(fs.read_text(path))
    except FileNotFoundError:
        raise EvalSetError(f"{path}: evaluation sets file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise EvalSetError(f"{path}: cannot read it: {e}") from None
    except yaml.YAMLError as e:
        raise EvalSetError(f"{path}: not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict) or set(data) != {"sets"} or not isinstance(data["sets"], dict) \
            or not data["sets"]:
        raise EvalSetError(f"{path}: expected one top-level key 'sets' mapping set names to "
                           f"{{format: jsonl, path: ..., text_fields: [question, answer]}}")
    base = fs.dirname(path)
    return [_parse_set(name, entry, base=base, where=f"{path}: sets.{name}")
            for name, entry in data["sets"].items()]


def _parse_set(name: Any, entry: Any, *, base: str, where: str) -> EvalSet:
    problem = component_name_problem(name)
    if problem:  # a set's name names its output files
        raise EvalSetError(f"{where}: {problem.replace('component', 'set')}")
    if not isinstance(entry, dict):
        raise EvalSetError(f"{where}: expected a mapping such as {{format: jsonl, path: ...}}")
    fmt_name = entry.get("format")
    if fmt_name not in EVAL_FORMATS:
        raise EvalSetError(f"{where}: format {fmt_name!r}; an evaluation set is one of "
                           f"{', '.join(EVAL_FORMATS)}")
    fmt = formats.get(fmt_name)
    own = fmt.keys - {"text_field"}
    unknown = sorted(set(entry) - SET_KEYS - own)
    if unknown:
        raise EvalSetError(f"{where}: unknown key(s) {unknown}; allowed: "
                           f"{sorted(SET_KEYS | own)}")
    fields = entry.get("text_fields", ["text"])
    if isinstance(fields, str):
        fields = [fields]
    if not isinstance(fields, list) or not fields or not all(
            isinstance(f, str) and f for f in fields) or len(set(fields)) != len(fields):
        raise EvalSetError(f"{where}: text_fields lists the record fields that form the "
                           f"example's text, e.g. [question, answer]")
    spec = SourceSpec(component=str(name), format=fmt_name, base=base, text_field=fields[0],
                      id_field=str(entry.get("id_field", "id")), keep=tuple(fields[1:]))
    format_entry = {k: v for k, v in entry.items() if k in own}
    spec = fmt.parse({**format_entry, "text_field": fields[0]}, spec, where=where)
    try:
        fmt.check(spec)
    except (UserError, OSError) as e:
        raise EvalSetError(f"{where}: {e}") from None
    return EvalSet(name=str(name), text_fields=tuple(fields), spec=spec)


def example_text(doc: Document | Reject, text_fields: tuple[str, ...]) -> Document | Reject:
    """A record read by the set's format -> the Document whose text is the example's (its
    text fields joined by newlines), or this record's Reject."""
    if isinstance(doc, Reject):
        return doc
    checked = validate(doc, max_bytes=MAX_EXAMPLE_BYTES)
    if isinstance(checked, Reject) or len(text_fields) == 1:
        return checked
    extra = dict(doc.metadata)
    missing = [f for f in text_fields[1:] if f not in extra]
    if missing:
        return Reject.of(doc, Reason.MISSING_TEXT, f"no text field {missing[0]!r} (text_fields "
                                                   f"{list(text_fields)})")
    text = "\n".join([doc.text, *(extra[f] for f in text_fields[1:])])
    return dataclasses.replace(doc, text=text, metadata={})


def first_by_id(key: tuple[str, str], examples: Iterable[Example]) -> Iterator[Example | Reject]:
    """Of the examples of one (set, id), the first in (source, record) order; the others are
    ``duplicate_id`` rejects naming it (ids are what the output lists)."""
    ordered = sorted(examples, key=lambda e: (e.source, e.record))
    keeper = ordered[0]
    yield keeper
    for e in ordered[1:]:
        yield Reject(id=e.id, component=e.set, reason=Reason.DUPLICATE_ID,
                     detail=f"{e.source}:{e.record}: id {e.id!r} already used by "
                            f"{keeper.source}:{keeper.record}",
                     source=e.source, record=e.record, duplicate_of=keeper.id)
