"""``tfds``: a prepared TensorFlow Datasets split (wiki40b, ...), read in ranges of records.

Sources entry: ``{format: tfds, name: "wiki40b/en", split: train, data_dir: DIR, text_field:
text}`` (``split`` default ``train``, ``data_dir`` default: TFDS's own; and the common
``id_field``, ``fields``). One work item per ``TFDS_RANGE`` records; ``record`` is the 0-based
index in the split. ``array_record`` datasets are read without TensorFlow (``tfds.data_source``,
random access); TFRecord ones need TensorFlow, which ``check`` makes sure of before the run.

Failure policy: a dataset or split that is not prepared is a ``SourceError`` before the run; a
range that breaks while reading -> one ``unreadable`` reject for the rest of the range.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Iterator, Mapping

from palmkit.errors import UserError
from palmkit.records import Reason
from pipelines import fs
from pipelines.formats.base import SourceError, SourceFormat, SourceSpec, WorkItem
from pipelines.formats.records import Output, display_path, record_to_document, reject

TFDS_RANGE = 10_000  # records per TFDS work item: ~10-50 MB of text, a few seconds of reading
#: No file sizes before the pipeline: a TFDS source is sized as this many text bytes.
TFDS_ASSUMED_BYTES = 4 << 30


class TfdsError(UserError):
    """A TFDS source that cannot be read (missing dataset/split, TensorFlow needed)."""


@dataclasses.dataclass(frozen=True)
class TfdsOptions:
    name: str  # e.g. wiki40b/en
    split: str = "train"  # a split, or a slice of one ("train[:10%]")
    data_dir: str | None = None  # None: TFDS's default data_dir


class Tfds(SourceFormat):
    """A TFDS split; one work item per range of ``TFDS_RANGE`` records."""

    keys = frozenset({"name", "split", "data_dir", "text_field"})

    def parse(self, entry: dict[str, Any], spec: SourceSpec, *, where: str) -> SourceSpec:
        if not entry.get("name"):
            raise SourceError(f"{where}: format tfds needs a 'name' such as wiki40b/en")
        data_dir = entry.get("data_dir")
        options = TfdsOptions(name=str(entry["name"]), split=str(entry.get("split", "train")),
                              data_dir=fs.resolve(str(data_dir), spec.base) if data_dir else None)
        return dataclasses.replace(spec, options=options)

    def check(self, spec: SourceSpec) -> None:
        check_tfds(spec.options)

    def summary(self, spec: SourceSpec) -> dict[str, Any]:
        o = spec.options
        return {"name": o.name, "split": o.split, "data_dir": o.data_dir}

    def text_bytes(self, spec: SourceSpec) -> int:
        return TFDS_ASSUMED_BYTES

    def plan(self, item: WorkItem) -> Iterator[WorkItem]:
        total = _tfds_length(item.spec.options)
        for start in range(0, total, TFDS_RANGE):
            yield dataclasses.replace(item, start=start, stop=min(start + TFDS_RANGE, total))

    def read(self, item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
        return read_tfds_range(item)

    def describe_item(self, item: WorkItem) -> str:
        return f"{tfds_source(item.spec.options)}[{item.start}:{item.stop}]"


def _base_split(split: str) -> str:
    return split.split("[", 1)[0]


def _tfds_builder(o: TfdsOptions):
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(o.name, data_dir=o.data_dir)
    except Exception as e:  # DatasetNotFoundError and friends
        where = o.data_dir or "the default TFDS data_dir"
        raise TfdsError(f"TFDS dataset {o.name} not found in {where}: "
                        f"{str(e).splitlines()[0]}") from None


def _is_array_record(builder) -> bool:
    return "array_record" in str(builder.info.file_format).lower()


def check_tfds(o: TfdsOptions) -> None:
    """Fail early: dataset and split prepared, and readable without TensorFlow (or TF present)."""
    builder = _tfds_builder(o)
    splits = list(builder.info.splits)
    if _base_split(o.split) not in splits:
        raise TfdsError(f"split {o.split!r} of {o.name} is not prepared in "
                        f"{builder.data_dir} (prepared: {splits or 'none'}); prepare it with "
                        f"`tfds build {o.name} --file_format=array_record`")
    if not _is_array_record(builder):
        try:
            import tensorflow  # noqa: F401
        except ImportError:
            raise TfdsError(
                f"{o.name} is stored as {builder.info.file_format}, which only "
                f"TensorFlow reads: install the extra (pip install 'palmkit[tensorflow]') or "
                f"rebuild it with --file_format=array_record") from None


@functools.lru_cache(maxsize=8)
def _tfds_source(name: str, split: str, data_dir: str | None):
    """Random-access reader (array_record: no TensorFlow), cached per worker process."""
    import tensorflow_datasets as tfds

    return tfds.data_source(name, split=split, data_dir=data_dir)


def _tfds_length(o: TfdsOptions) -> int:
    builder = _tfds_builder(o)
    if _is_array_record(builder):
        return len(_tfds_source(o.name, o.split, o.data_dir))
    return builder.info.splits[o.split].num_examples


def _tfds_examples(o: TfdsOptions, start: int, stop: int) -> Iterator[Mapping[str, Any]]:
    builder = _tfds_builder(o)
    if _is_array_record(builder):
        source = _tfds_source(o.name, o.split, o.data_dir)
        for i in range(start, stop):
            yield source[i]
    else:  # TFRecord: TensorFlow is installed (check_tfds made sure)
        import tensorflow_datasets as tfds

        base = _base_split(o.split)
        yield from tfds.as_numpy(builder.as_dataset(split=f"{base}[{start}:{stop}]"))


def tfds_source(o: TfdsOptions) -> str:
    """How the split is written in ``Document.source``: ``tfds:NAME/SPLIT``."""
    return display_path(f"tfds:{o.name}/{o.split}")


def read_tfds_range(item: WorkItem) -> Iterator[Output]:
    """Records ``start..stop`` of a TFDS split; ``record`` is the 0-based index in the split."""
    spec = item.spec
    source = tfds_source(spec.options)
    next_record = item.start
    try:
        for i, example in enumerate(_tfds_examples(spec.options, item.start, item.stop),
                                    item.start):
            yield record_to_document(example, spec=spec, source=source, record=i)
            next_record = i + 1
        return
    except Exception as e:
        yield reject(spec, source, next_record, reason=Reason.UNREADABLE,
                     detail=f"cannot read records {next_record}..{item.stop - 1}: "
                            f"{type(e).__name__}: {e}")
