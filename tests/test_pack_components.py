"""Component sidecars of packed shards (records.COMPONENTS_SCHEMA): written by the pack job's
shard step for both formats with exact per-row values on a hand-made shard, listed and checked
by the manifest contract, kept or redone by resume like their shard, read back by the trainer's
``SegmentComponents`` and never taken for a token shard."""

import numpy as np
import pyarrow.parquet as pq
import pytest

from palmkit.contracts import PackedDataSpec, packed_shard_name
from palmkit.manifest import FileEntry, ManifestError
from palmkit.records import COMPONENTS_SCHEMA, components_name, is_components_name
from pipelines import resume
from pipelines.pack_shards import pack_shard, resumed_shards
from trainer.data import PackedExamples, SegmentComponents, read_spec

EOD = 0
NAMES = ("code", "web")


def tok(n, v):
    return np.full(n, v, np.int32)


# Sorted by order key (the copy's first field): web(7) code(1) web(1) code(1) web(2), rows of 4:
# [eod] w w w | w w w w | [eod] c [eod] w | [eod] c [eod] w || w [eod] dropped
COPIES = [(30, "web", "c", 0, tok(1, 4)), (10, "web", "a", 0, tok(7, 3)),
          (20, "code", "b", 0, tok(1, 5)), (50, "web", "e", 0, tok(2, 7)),
          (40, "code", "d", 0, tok(1, 6))]
EXPECTED = [[-1, 1], [1], [1, 0, 1], [1, 0, 1]]


def _write_pack(root, result, fmt):
    spec = PackedDataSpec(seq_len=4, vocab_size=16, vocab_sha256="t", eod_id=EOD, seed=0,
                          shards=(result["name"],), examples_per_shard=(result["entry"].rows,),
                          format=fmt, components=NAMES)
    spec.to_manifest(outputs={result["name"]: result["entry"],
                              components_name(result["name"]): result["components_entry"]},
                     config={}, inputs={}, counts={}, versions={}).write(str(root))


@pytest.mark.parametrize("fmt", ["parquet", "array_record"])
def test_pack_shard_writes_the_components_of_each_rows_segments(tmp_path, fmt):
    result = pack_shard((0, COPIES + [None]), output=str(tmp_path), seq_len=4, eod_id=EOD,
                        num_shards=1, fmt=fmt, components=NAMES)
    assert result["name"] == packed_shard_name(0, 1, fmt)
    side = tmp_path / "components-00000-of-00001.parquet"
    table = pq.read_table(side)
    assert table.schema.equals(COMPONENTS_SCHEMA, check_metadata=False)
    assert table["components"].to_pylist() == EXPECTED
    assert result["components_entry"].rows == 4 == result["entry"].rows
    _write_pack(tmp_path, result, fmt)
    spec = read_spec(str(tmp_path))  # checksums of the shard and of its sidecar
    assert spec.shards == (result["name"],) and spec.components == NAMES
    assert PackedExamples(spec).read(0, 4).tolist() == [[0, 3, 3, 3], [3, 3, 3, 3], [0, 5, 0, 4],
                                                        [0, 6, 0, 7]]
    assert [SegmentComponents(spec).row(i).tolist() for i in range(4)] == EXPECTED
    # a sidecar whose bytes changed is refused like a shard
    side.write_bytes(side.read_bytes()[:-1] + b"\0")
    with pytest.raises(ManifestError, match="components-00000-of-00001.parquet: SHA-256"):
        read_spec(str(tmp_path))


def test_without_components_no_sidecar_is_written(tmp_path):
    result = pack_shard((0, COPIES), output=str(tmp_path), seq_len=4, eod_id=EOD, num_shards=1)
    assert "components_entry" not in result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shard-00000-of-00001.parquet"]


def test_resume_keeps_a_shard_only_with_its_intact_sidecar(tmp_path):
    cache = str(resume.cache_root(str(tmp_path)))
    pack_shard((0, COPIES), output=str(tmp_path), seq_len=4, eod_id=EOD, num_shards=1,
               components=NAMES, cache=cache, run="R1")
    done = resumed_shards(str(tmp_path), "R1")
    assert list(done) == [0] and isinstance(done[0]["components_entry"], FileEntry)
    side = tmp_path / "components-00000-of-00001.parquet"
    side.write_bytes(side.read_bytes()[:-3])  # cut short: the shard is packed again
    assert resumed_shards(str(tmp_path), "R1") == {}
    side.unlink()
    assert resumed_shards(str(tmp_path), "R1") == {}


# -- the contract --------------------------------------------------------------------------------
SHARDS = (packed_shard_name(0, 2), packed_shard_name(1, 2))
SIDES = tuple(components_name(s) for s in SHARDS)
OUTPUTS = {SHARDS[0]: FileEntry(5, 10, "0" * 64), SHARDS[1]: FileEntry(4, 9, "1" * 64),
           SIDES[0]: FileEntry(5, 3, "2" * 64), SIDES[1]: FileEntry(4, 3, "3" * 64)}
SPEC = PackedDataSpec(seq_len=64, vocab_size=800, vocab_sha256="ab" * 32, eod_id=2, seed=7,
                      shards=SHARDS, examples_per_shard=(5, 4), components=("code", "web"))


def _manifest():
    return SPEC.to_manifest(outputs=OUTPUTS, config={}, inputs={}, counts={}, versions={})


def test_sidecars_are_listed_beside_their_shards_and_are_not_shards():
    assert SIDES == ("components-00000-of-00002.parquet", "components-00001-of-00002.parquet")
    assert all(is_components_name(s) for s in SIDES) and not is_components_name(SHARDS[0])
    m = _manifest()
    assert sorted(m.outputs) == sorted(SHARDS + SIDES) and m.extra["components"] == ["code", "web"]
    back = PackedDataSpec.from_manifest(m)
    assert back == SPEC and back.shards == SHARDS and back.component_files == SIDES
    with pytest.raises(ValueError, match="do not match shards"):  # the writer must list them
        SPEC.to_manifest(outputs={s: OUTPUTS[s] for s in SHARDS}, config={}, inputs={},
                         counts={}, versions={})


@pytest.mark.parametrize("change, message", [
    (lambda m: m.outputs.pop(SIDES[1]), "component sidecars .* do not match the shards"),
    (lambda m: m.extra.pop("components"), "component sidecars .* do not match the shards"),
    (lambda m: m.outputs.__setitem__(SIDES[0], FileEntry(4, 3, "2" * 64)), "component sidecars .* do not match"),
    (lambda m: m.extra.__setitem__("components", ["web", "web"]), "extra.components is"),
    (lambda m: m.extra.__setitem__("components", "web"), "extra.components is"),
])
def test_a_sidecar_out_of_step_with_the_shards_is_one_line_error(change, message):
    m = _manifest()
    change(m)
    with pytest.raises(ManifestError, match=f"^S/manifest.json: {message}") as info:
        PackedDataSpec.from_manifest(m, origin="S/manifest.json")
    assert len(str(info.value).splitlines()) == 1
