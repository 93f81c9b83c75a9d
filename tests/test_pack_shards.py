"""``palmkit pack --num-shards`` unset: shards sized from the corpus manifest at launch."""

from __future__ import annotations

import types

import pytest

from palmkit.errors import UserError
from pipelines.pack import BYTES_PER_TOKEN, PackConfig, auto_num_shards


def manifest(**kept_bytes):
    return types.SimpleNamespace(counts={c: {"kept": 1, "kept_bytes": b} for c, b in kept_bytes.items()})


def test_small_corpus_gets_one_shard():
    assert auto_num_shards(manifest(web=10_000), ["web"], total_tokens=None,
                           shard_tokens=100_000_000) == 1


def test_shards_from_kept_bytes_of_shared_components_only():
    m = manifest(web=BYTES_PER_TOKEN * 250, code=BYTES_PER_TOKEN * 10**6)
    assert auto_num_shards(m, ["web"], total_tokens=None, shard_tokens=100) == 3


def test_total_tokens_decides_when_given():
    # 780B tokens at 100M per shard, as in docs/scale.md
    assert auto_num_shards(manifest(web=1), ["web"], total_tokens=780 * 10**9,
                           shard_tokens=100_000_000) == 7_800


def test_config_defaults_to_automatic_and_checks_ranges():
    cfg = PackConfig(corpus="c", vocab="v.model", output="o")
    assert cfg.num_shards is None and cfg.shard_tokens == 100_000_000
    with pytest.raises(UserError, match="--num-shards"):
        PackConfig(corpus="c", vocab="v.model", output="o", num_shards=0)
    with pytest.raises(UserError, match="--shard-tokens"):
        PackConfig(corpus="c", vocab="v.model", output="o", shard_tokens=0)
