"""The pack -> trainer hand-over (palmkit.contracts.PackedDataSpec): the JSON it writes is the
format pack outputs have always had, and every field is checked on read with a one-line error."""

import json

import pytest

from palmkit.contracts import PackedDataSpec, packed_shard_name
from palmkit.manifest import FileEntry, Manifest, ManifestError

SHARDS = (packed_shard_name(0, 2), packed_shard_name(1, 2))
SPEC = PackedDataSpec(seq_len=64, vocab_size=800, vocab_sha256="ab" * 32, eod_id=2, seed=7,
                      shards=SHARDS, examples_per_shard=(5, 4))
OUTPUTS = {SHARDS[0]: FileEntry(rows=5, bytes=10, sha256="0" * 64),
           SHARDS[1]: FileEntry(rows=4, bytes=9, sha256="1" * 64)}


def manifest(spec=SPEC, **extra) -> Manifest:
    return spec.to_manifest(outputs=OUTPUTS, config={}, inputs={},
                            counts={}, versions={}, extra=extra)


def test_fields_are_written_under_the_keys_pack_outputs_always_had():
    m = manifest(repeats=[])
    assert m.stage == "pack" and m.outputs == OUTPUTS
    assert m.extra == {"seq_len": 64, "token_dtype": "int32", "num_shards": 2,
                       "examples_per_shard": [5, 4], "seed": 7, "vocab_size": 800,
                       "eod_id": 2, "vocab_sha256": "ab" * 32, "repeats": []}
    again = PackedDataSpec.from_manifest(Manifest.from_json(m.to_json()))
    assert again == SPEC and again.num_examples == 9 and again.num_shards == 2


def test_a_manifest_written_before_the_contract_still_loads():
    old = {"stage": "pack", "format_version": 1, "config": {}, "counts": {}, "inputs": {},
           "versions": {}, "outputs": {k: vars(v) for k, v in OUTPUTS.items()},
           "extra": {"eod_id": 2, "examples_per_shard": [5, 4], "num_shards": 2, "repeats": [],
                     "sampling_plan": {}, "seed": 7, "seq_len": 64, "token_dtype": "int32",
                     "vocab_sha256": "ab" * 32, "vocab_size": 800}}
    m = Manifest.from_json(json.dumps(old))
    assert PackedDataSpec.from_manifest(m) == SPEC
    assert json.loads(manifest(repeats=[], sampling_plan={}).to_json()) == old


@pytest.mark.parametrize("key, value, message", [
    ("seq_len", None, r"extra\.seq_len missing"),
    ("eod_id", None, r"extra\.eod_id missing"),
    ("vocab_sha256", None, r"extra\.vocab_sha256 missing"),
    ("examples_per_shard", None, r"extra\.examples_per_shard missing"),
    ("seq_len", "64", r"extra\.seq_len is '64', not a positive integer"),
    ("vocab_size", 0, r"extra\.vocab_size is 0"),
    ("eod_id", 800, r"extra\.eod_id is 800, not an id in \[0, 800\)"),
    ("seed", True, r"extra\.seed is True"),
    ("examples_per_shard", [5, -1], r"extra\.examples_per_shard is \[5, -1\]"),
    ("examples_per_shard", [5, 3], r"examples_per_shard \[5, 3\] does not match the rows"),
    ("examples_per_shard", [9], r"examples_per_shard \[9\] does not match the rows"),
    ("num_shards", 3, r"extra\.num_shards is 3, not 2"),
    ("token_dtype", "uint16", r"token_dtype='uint16' but 'int32' is required"),
])
def test_each_field_is_checked_with_one_line_naming_it(key, value, message):
    m = manifest()
    if value is None:
        del m.extra[key]
    else:
        m.extra[key] = value
    with pytest.raises(ManifestError, match=f"^SHARDS/manifest.json: .*{message}") as info:
        PackedDataSpec.from_manifest(m, origin="SHARDS/manifest.json")
    assert len(str(info.value).splitlines()) == 1


def test_another_stage_is_refused():
    m = manifest()
    m.stage = "corpus"
    with pytest.raises(ManifestError, match="written by stage 'corpus'"):
        PackedDataSpec.from_manifest(m)


def test_the_writer_cannot_describe_other_files_or_override_a_field():
    with pytest.raises(ValueError, match="do not match shards"):
        PackedDataSpec(**{**vars(SPEC), "examples_per_shard": (5, 5)}).to_manifest(
            outputs=OUTPUTS, config={}, inputs={}, counts={}, versions={})
    with pytest.raises(ValueError, match=r"\['seq_len'\] belong to PackedDataSpec"):
        manifest(seq_len=128)
