"""Distributed connected components in Beam: alternating large-star / small-star rounds.

Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii, "Connected Components in MapReduce and
Beyond" (SoCC 2014). Each round is one GroupByKey over the edges, so no worker ever holds
more than one node's neighbourhood; datatrove, text-dedup and BigCode's near-dedup instead
collect every edge on one machine for a union-find.

* large-star(u): m = min(Γ(u) ∪ {u}); link every neighbour v > u to m.
* small-star(u): N = {v ∈ Γ(u): v <= u}; m = min(N ∪ {u}); link every v ∈ N ∪ {u} to m.

Connectivity is preserved by both steps, edge counts never grow beyond twice the distinct
edges, and the graph ends as one star per component centred on its smallest id.

Convergence check. A graph is "settled" when every node has either no smaller neighbour (a
centre) or exactly one smaller neighbour and no larger one (a leaf): a leaf's neighbour then
has a larger neighbour, so it is a centre, every component is a star, and its centre (smaller
than all its leaves) is the component's minimum. Both steps are no-ops on a settled graph.
A Beam graph is static, so ``max_rounds`` rounds are unrolled (a round after convergence
costs two GroupByKeys over the already-small star edges); each round counts its unsettled
nodes, the stats report the first settled round, and the final labelling step raises if any
node is still unsettled, naming ``max_rounds``. Measured (the same functions in a plain loop):
a path through 1,000 / 10,000 / 100,000 nodes in random id order (the worst case for label
propagation, which needs n/2 rounds) settles in 8 / 11 / 13 rounds; the default of 20 leaves
room for the paper's O(log^2 n) bound on larger graphs. Near-duplicate graphs of real code
are mostly small cliques and settle in 1-3 rounds.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import apache_beam as beam

Edge = tuple[str, str]

UNSETTLED = "unsettled"


class ComponentsNotConverged(RuntimeError):
    """The unrolled rounds ended before every component became a star."""


def both_directions(edge: Edge) -> Iterator[Edge]:
    u, v = edge
    if u != v:
        yield u, v
        yield v, u


def towards_smaller(edge: Edge) -> Iterator[Edge]:
    """Key an edge by its larger endpoint (small-star's input)."""
    u, v = edge
    if u != v:
        yield (u, v) if u > v else (v, u)


def is_unsettled(u: str, neighbours: Iterable[str]) -> bool:
    smaller = larger = 0
    for v in neighbours:
        if v < u:
            smaller += 1
        elif v > u:
            larger += 1
    return smaller > 1 or (smaller == 1 and larger > 0)


def large_star(node: tuple[str, Iterable[str]]) -> Iterator[Edge]:
    u, neighbours = node
    nbrs = set(neighbours)
    m = min(nbrs | {u})
    for v in sorted(nbrs):
        if v > u:
            yield v, m


def small_star(node: tuple[str, Iterable[str]]) -> Iterator[Edge]:
    u, smaller = node
    group = set(smaller) | {u}
    m = min(group)
    for v in sorted(group):
        if v != m:
            yield v, m


def unsettled_count(node: tuple[str, Iterable[str]], round_index: int) -> tuple[str, int]:
    u, neighbours = node
    return f"{UNSETTLED}.{round_index:03d}", int(is_unsettled(u, set(neighbours)))


def star_label(node: tuple[str, Iterable[str]], *, max_rounds: int) -> tuple[str, str]:
    """(node, component id = smallest id of its component) on a settled graph."""
    u, neighbours = node
    nbrs = set(neighbours)
    if is_unsettled(u, nbrs):
        raise ComponentsNotConverged(
            f"connected components did not converge in max_rounds={max_rounds}: node {u!r} "
            f"still has {len(nbrs)} neighbours that do not form a star; raise max_rounds"
        )
    return u, min(nbrs | {u})


def rounds_used(counts: dict[str, int]) -> int | None:
    """First round index whose input graph was settled (0 = the input already was)."""
    rounds = sorted(k for k in counts if k.startswith(UNSETTLED + "."))
    for key in rounds:
        if counts[key] == 0:
            return int(key.rsplit(".", 1)[1])
    return None


class _Round(beam.PTransform):
    """One large-star + small-star round; also counts the input's unsettled nodes."""

    def __init__(self, index: int):
        super().__init__()
        self.index = index

    def expand(self, edges):
        adjacency = (
            edges
            | "BothDirections" >> beam.FlatMap(both_directions)
            | "GroupNeighbours" >> beam.GroupByKey()
        )
        unsettled = adjacency | "CountUnsettled" >> beam.Map(unsettled_count, self.index)
        star = (
            adjacency
            | "LargeStar" >> beam.FlatMap(large_star)
            | "TowardsSmaller" >> beam.FlatMap(towards_smaller)
            | "GroupSmaller" >> beam.GroupByKey()
            | "SmallStar" >> beam.FlatMap(small_star)
        )
        return star, unsettled


class ConnectedComponents(beam.PTransform):
    """Edges (a, b) -> (labels: (node, smallest id in its component), counts: (key, int)).

    ``counts`` carries ``unsettled.<round>`` rows (sum them per key, then ``rounds_used``).
    Nodes without edges get no label.
    """

    def __init__(self, *, max_rounds: int = 20):
        super().__init__()
        self.max_rounds = max_rounds

    def expand(self, edges):
        counts = []
        for i in range(self.max_rounds):
            edges, unsettled = edges | f"Round{i:03d}" >> _Round(i)
            counts.append(unsettled)
        final = (
            edges
            | "FinalBothDirections" >> beam.FlatMap(both_directions)
            | "FinalGroupNeighbours" >> beam.GroupByKey()
        )
        counts.append(final | "FinalCountUnsettled" >> beam.Map(unsettled_count, self.max_rounds))
        labels = final | "StarLabel" >> beam.Map(star_label, max_rounds=self.max_rounds)
        return labels, counts | "FlattenCounts" >> beam.Flatten()
