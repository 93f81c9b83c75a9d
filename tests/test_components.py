"""Distributed connected components (large-star / small-star) against a union-find reference."""

from __future__ import annotations

import random

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines.clean import components as cc


def union_find_labels(edges):
    """Reference: node -> smallest node of its component (plain union-find)."""
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in list(parent)}


def path_graph(prefix: str, n: int, rng: random.Random):
    """A path through n nodes visited in random id order (the worst case for label passing)."""
    nodes = [f"{prefix}{i:05d}" for i in range(n)]
    rng.shuffle(nodes)
    return list(zip(nodes, nodes[1:]))


def star_graph(prefix: str, n: int, rng: random.Random):
    centre = f"{prefix}{rng.randrange(n):05d}"  # not the smallest id
    return [(centre, f"{prefix}{i:05d}") for i in range(n) if f"{prefix}{i:05d}" != centre]


def random_graph(prefix: str, n: int, m: int, rng: random.Random):
    return [(f"{prefix}{rng.randrange(n):05d}", f"{prefix}{rng.randrange(n):05d}") for _ in range(m)]


def test_star_steps_on_a_small_graph():
    # large-star at "b" (neighbours a, c, d): larger neighbours c, d are linked to min "a".
    assert sorted(cc.large_star(("b", ["a", "c", "d", "c"]))) == [("c", "a"), ("d", "a")]
    # small-star at "d" (smaller neighbours b, c): all of {b, c, d} linked to "b".
    assert sorted(cc.small_star(("d", ["c", "b"]))) == [("c", "b"), ("d", "b")]
    assert cc.is_unsettled("c", ["a", "d"]) and cc.is_unsettled("c", ["a", "b"])
    assert not cc.is_unsettled("a", ["b", "c"]) and not cc.is_unsettled("c", ["a"])


def test_star_label_raises_when_not_converged():
    with pytest.raises(cc.ComponentsNotConverged, match="max_rounds=3"):
        cc.star_label(("m", ["a", "z"]), max_rounds=3)


def test_rounds_used_reads_the_first_settled_round():
    assert cc.rounds_used({"unsettled.000": 5, "unsettled.001": 2, "unsettled.002": 0}) == 2
    assert cc.rounds_used({"unsettled.000": 0}) == 0
    assert cc.rounds_used({"unsettled.000": 1}) is None


def test_components_equal_union_find_on_chains_stars_and_random_graphs():
    rng = random.Random(7)
    edges = (
        path_graph("p", 1000, rng)
        + star_graph("s", 300, rng)
        + random_graph("r", 400, 300, rng)  # sparse: many small components and trees
        + random_graph("d", 50, 400, rng)  # dense: one component with many cycles
        + [("x1", "x1"), ("y1", "y2"), ("y2", "y1")]  # self-loop and a duplicate edge
    )
    expected = sorted(union_find_labels([e for e in edges if e[0] != e[1]]).items())
    with TestPipeline() as p:
        labels, counts = p | beam.Create(edges) | cc.ConnectedComponents(max_rounds=20)
        assert_that(labels, equal_to(expected), label="LabelsMatchUnionFind")
        settled = (
            counts
            | beam.CombinePerKey(sum)
            | beam.combiners.ToDict()
            | beam.Map(lambda d: (cc.rounds_used(d) is not None, cc.rounds_used(d) <= 20))
        )
        assert_that(settled, equal_to([(True, True)]), label="Converged")


def test_too_few_rounds_fail_loudly():
    edges = path_graph("p", 200, random.Random(3))
    with pytest.raises(Exception, match="did not converge in max_rounds=1"):
        with TestPipeline() as p:
            _ = p | beam.Create(edges) | cc.ConnectedComponents(max_rounds=1)


def whole_groups(pairs):
    """A correct shuffle: (key, [values]) per key, in key order."""
    table = {}
    for k, v in pairs:
        table.setdefault(k, []).append(v)
    return sorted(table.items())


def group_in_pieces(pairs, rng: random.Random, pieces: int):
    """A faulty shuffle: each key's values arrive as up to ``pieces`` separate groups."""
    for k, values in whole_groups(pairs):
        rng.shuffle(values)
        cuts = sorted(rng.sample(range(1, len(values)), min(pieces - 1, len(values) - 1)))
        for lo, hi in zip([0] + cuts, cuts + [len(values)]):
            yield k, values[lo:hi]


def rounds_with_split_groups(edges, rng, *, pieces: int, rounds: int, faulty_rounds: set[int]):
    """The stage's rounds as plain loops over the same functions; every GroupByKey of the
    ``faulty_rounds`` hands each key over in up to ``pieces`` groups."""
    for r in range(rounds):
        n = pieces if r in faulty_rounds else 1
        adjacency = group_in_pieces([e for x in edges for e in cc.both_directions(x)], rng, n)
        larger = [e for node in adjacency for e in cc.large_star(node)]
        keyed = group_in_pieces([e for x in larger for e in cc.towards_smaller(x)], rng, n)
        edges = sorted({e for node in keyed for e in cc.small_star(node)})
    return edges


def labels_of(edges, max_rounds: int):
    final = whole_groups([e for x in edges for e in cc.both_directions(x)])
    return dict(cc.star_label(node, max_rounds=max_rounds) for node in final)


def mixed_graph(rng):
    return (path_graph("p", 300, rng) + star_graph("s", 100, rng)
            + random_graph("r", 200, 150, rng) + random_graph("d", 30, 200, rng))


@pytest.mark.parametrize("pieces", [2, 3])
def test_split_groups_never_split_a_component_and_a_passing_fault_only_delays(pieces):
    """A neighbourhood that arrives in pieces links each piece to an id of the node's own
    neighbourhood, so no component is ever cut; once the groups are whole again the rounds
    converge to the union-find labels."""
    rng = random.Random(11 + pieces)
    edges = mixed_graph(rng)
    expected = union_find_labels([e for e in edges if e[0] != e[1]])
    after = rounds_with_split_groups(edges, rng, pieces=pieces, rounds=30, faulty_rounds={0, 1, 2})
    assert labels_of(after, max_rounds=30) == expected


@pytest.mark.parametrize("pieces", [2, 3])
def test_a_lasting_fault_stalls_the_rounds_and_is_caught(pieces):
    """If every grouping comes in pieces the rounds stop converging (a piece keeps its own
    minimum), though every component stays whole: the final labelling on whole groups raises,
    and on split ones some node is labelled twice, which near dedup counts
    (``unmatched.labels_repeated``) and fails on."""
    rng = random.Random(21 + pieces)
    edges = mixed_graph(rng)
    expected = union_find_labels([e for e in edges if e[0] != e[1]])
    after = rounds_with_split_groups(edges, rng, pieces=pieces, rounds=30,
                                     faulty_rounds=set(range(30)))
    assert union_find_labels(after) == expected  # connectivity kept
    with pytest.raises(cc.ComponentsNotConverged):
        labels_of(after, max_rounds=30)
    labels = {}
    for node in group_in_pieces([e for x in after for e in cc.both_directions(x)], rng, pieces):
        try:
            u, root = cc.star_label(node, max_rounds=30)
        except cc.ComponentsNotConverged:
            continue  # a piece that still looks unsettled: the job fails there
        labels.setdefault(u, set()).add(root)
    assert any(len(roots) > 1 for roots in labels.values())
