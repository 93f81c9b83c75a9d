"""Near-duplicate removal: MinHash -> LSH -> candidate pairs -> verification -> components.

PaLM removed near-duplicate code files "by Levenshtein distance" (section 3, no threshold
stated). Comparing all pairs is impossible at corpus scale, so:

1. ``Signatures``: a 100-permutation MinHash of each file's 3-token shingles
   (``minhash.py``: identifier tokens, digits and case kept) and 25 band keys of 4 rows.
2. ``CandidatePairs``: group by band key; within a bucket, members sorted by (size, id) pair
   with at most ``max_partners`` nearest predecessors whose size passes the length-ratio
   bound, so a bucket of 5,000 identical license headers gives <= 8 * 5,000 pairs, not 12.5M.
3. ``VerifiedEdges``: a first join by id moves every document once with its partners' ids:
   documents in no candidate pair leave the stage there; the smaller id of each pair sends
   its text to the larger, where a second join (candidates only) computes the exact
   normalised Levenshtein similarity ``1 - d / max(len_a, len_b)`` (``score_cutoff`` and the
   length-ratio pre-check make hopeless pairs cheap); only pairs >= ``threshold`` become
   edges. Text components opted in with ``cleaning.text_near_dedup`` use the signatures'
   Jaccard estimate instead. Everything before this step shuffles only band keys, sizes and
   ids, so the DirectRunner holds one copy of the texts at a time, not three.
4. ``components.ConnectedComponents``: distributed large-star/small-star rounds.
5. ``Resolve``: candidates joined with their component labels; per component, members in
   survivor order (longest text, then smallest id) are clustered greedily: a member is removed only if its similarity to an earlier kept
   member (checked in order, at most ``max_survivor_checks`` of them) is >= ``threshold``;
   otherwise it is kept as a new survivor. This is the guard against chaining: A~B~C with
   A vs C below threshold keeps C. Every removed file is therefore >= threshold similar to the
   file kept for it (datatrove's transitive clusters removed files 0.5-similar or less).

Defaults, from measurements on same-path files across installed versions of the same
libraries (docs/near_dedup.md, docs/benchmarks.md ``## Code near-dedup``): threshold 0.9
(different files: 99th percentile similarity 0.64; same path across versions: 59% of pairs
>= 0.9); with 25x4 bands 96.6% of the 5,717 pairs >= 0.9 among 20,503 files were proposed
directly and 99.9% ended in one connected component.
"""

from __future__ import annotations

import dataclasses
import zlib
from typing import Any, Iterable, Iterator

import apache_beam as beam
import numpy as np

from palmkit import flags
from palmkit.records import Document, Reason, from_wire, to_wire
from pipelines.clean import minhash
from pipelines.clean.components import ConnectedComponents, rounds_used
from pipelines.clean.minhash import MinHashParams
from pipelines.clean.near_dedup_checks import (LABELS_REPEATED, PAIRS_COMPARED, PAYLOADS_SENT,
                                               UNMATCHED_LABELS, UNMATCHED_PARTNERS,
                                               UNMATCHED_PAYLOADS, check_integrity, root_count)
from pipelines.stage import (REJECTS, STATS, StageOutput, SummariseStats, reject, require_at_least,
                             require_between, stat)

LEVENSHTEIN = "levenshtein"
JACCARD = "jaccard"
STAGE = "near_dedup"
_HISTOGRAM = (2, 3, 5, 10, 100, 1000)  # cluster-size bucket upper bounds (inclusive)


@dataclasses.dataclass(frozen=True)
class NearDedupOptions:
    """``NearDedup``'s options: ``CorpusConfig.near_dedup``, flags ``--near-dedup-*``."""

    threshold: float = flags.option(
        0.9, metavar="SIM",
        help="normalized Levenshtein similarity at or above which code files are "
             "near-duplicates (docs/near_dedup.md)")
    jaccard_threshold: float = flags.option(
        0.8, metavar="SIM",
        help="estimated Jaccard similarity at or above which documents of text_near_dedup "
             "components are near-duplicates")
    max_partners: int = flags.option(
        8, metavar="N", help="candidate pairs per LSH bucket member (bounds giant buckets)")
    max_rounds: int = flags.option(20, metavar="N", help="unrolled connected-components rounds")
    max_survivor_checks: int = flags.option(
        64, metavar="N", help="exact comparisons per file against the files kept in its cluster")
    minhash: MinHashParams = flags.option(
        default_factory=MinHashParams, cli=False,
        help="the MinHash family (bands x rows, shingle size, seed); set from Python")

    def __post_init__(self):
        require_between("--near-dedup-threshold", self.threshold, 0.0, 1.0)
        require_between("--near-dedup-jaccard-threshold", self.jaccard_threshold, 0.0, 1.0)
        require_at_least("--near-dedup-max-partners", self.max_partners)
        require_at_least("--near-dedup-max-rounds", self.max_rounds)
        require_at_least("--near-dedup-max-survivor-checks", self.max_survivor_checks)

    def threshold_for(self, mode: str) -> float:
        return self.threshold if mode == LEVENSHTEIN else self.jaccard_threshold


def component_modes(mixture: Any) -> dict[str, str]:
    """Component -> verification mode, for components whose cleaning asks for near-dedup."""
    modes = {}
    for name, comp in mixture.components.items():
        if comp.cleaning.code_near_dedup:
            modes[name] = LEVENSHTEIN
        elif comp.cleaning.text_near_dedup:
            modes[name] = JACCARD
    return modes


# ---------------------------------------------------------------- per-element functions


def doc_size(doc: Document, mode: str, sig_shingles: int) -> int:
    """Size used by the length-ratio bound: characters (Levenshtein) or shingles (Jaccard).

    Both bound the similarity from above by min/max: an edit distance is at least the length
    difference, and |A ∩ B| / |A ∪ B| <= |A| / |B| for |A| <= |B|.
    """
    return len(doc.text) if mode == LEVENSHTEIN else sig_shingles


class SignDoFn(beam.DoFn):
    """Document -> band entries (band_key, (size, id)): no text leaves this step."""

    def __init__(self, options: NearDedupOptions, modes: dict[str, str]):
        self.options = options
        self.modes = modes
        self.perms = None

    def setup(self):
        self.perms = minhash.permutations(self.options.minhash)

    def process(self, doc: Document):
        params = self.options.minhash
        mode = self.modes[doc.component]
        shingles = minhash.shingle_hashes(doc.text, params.shingle_size)
        sig = minhash.signature_of_shingles(shingles, params, self.perms)
        size = doc_size(doc, mode, shingles.size)
        for key in minhash.band_keys(sig, params, namespace=doc.component):
            yield key, (size, doc.id)


def bucket_candidates(
    bucket: tuple[bytes, Iterable[tuple[int, str]]],
    *,
    min_ratio: dict[str, float],
    max_partners: int,
) -> Iterator[tuple[str, str]]:
    """Pairs of one LSH bucket: members sorted by (size, id), each with at most
    ``max_partners`` nearest predecessors whose size ratio is >= ``min_ratio``.

    Identical-size members (a giant bucket of one boilerplate file) form overlapping windows,
    which keeps the bucket connected with O(max_partners * n) pairs.
    """
    key, members = bucket
    ratio = min_ratio[minhash.key_namespace(key)]
    ordered = sorted(set(members))
    for i in range(1, len(ordered)):
        size_i, id_i = ordered[i]
        for j in range(i - 1, max(-1, i - 1 - max_partners), -1):
            size_j, id_j = ordered[j]
            if size_i and size_j / size_i < ratio:
                break
            if id_i != id_j:  # one id twice (not after UniqueIds) is no pair
                yield min(id_i, id_j), max(id_i, id_j)


def similarity(mode: str, a: Any, b: Any, threshold: float) -> float:
    if mode == LEVENSHTEIN:
        return minhash.levenshtein_similarity(a, b, threshold)
    return minhash.jaccard_estimate(np.frombuffer(a, np.uint32), np.frombuffer(b, np.uint32))


def unpack(mode: str, payload: bytes) -> Any:
    """``SendPayloadsDoFn.payload`` -> the text (Levenshtein) or the signature bytes."""
    return zlib.decompress(payload).decode("utf-8", "surrogatepass") if mode == LEVENSHTEIN else payload


def pair_ends(pair: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """(a, b) -> (a, b) and (b, a): every member of a pair learns its partner's id."""
    a, b = pair
    yield a, b
    yield b, a


class SendPayloadsDoFn(beam.DoFn):
    """(id, {doc: [wire bytes of a Document], partner: [id]}) -> the document alone (no
    candidate partner: main output, final), or ``TaggedOutput(CANDIDATES, (id, wire))`` plus,
    per partner b > id,
    ``TaggedOutput(SENT, (b, (id, mode, payload)))``: the text (Levenshtein) or signature
    bytes (Jaccard) travels once per pair, from its smaller id to the larger one."""

    CANDIDATES, SENT = "candidates", "sent"

    def __init__(self, options: NearDedupOptions, modes: dict[str, str]):
        self.options, self.modes, self.perms = options, modes, None

    def setup(self):
        self.perms = minhash.permutations(self.options.minhash)

    def process(self, joined: tuple[str, dict[str, list]]):
        doc_id, groups = joined
        partners = sorted(set(groups["partner"]))
        if not groups["doc"] and partners:  # every pair member is a document of this stage
            yield stat(UNMATCHED_PARTNERS, len(partners))
        for wire in groups["doc"]:
            doc = from_wire(wire)
            if not partners:
                yield doc
                continue
            yield beam.pvalue.TaggedOutput(self.CANDIDATES, (doc_id, wire))
            mode = self.modes[doc.component]
            payload = self.payload(doc, mode)
            sent = [b for b in partners if b > doc_id]
            for b in sent:
                yield beam.pvalue.TaggedOutput(self.SENT, (b, (doc_id, mode, payload)))
            yield stat(PAYLOADS_SENT, len(sent))

    def payload(self, doc: Document, mode: str) -> bytes:
        """What a pair's verification needs of one side: the text, zlib-compressed (code
        compresses ~4x at level 1, and a text is copied once per pair it is in), or the
        signature (Jaccard: 400 bytes)."""
        if mode == LEVENSHTEIN:
            return zlib.compress(doc.text.encode("utf-8", "surrogatepass"), 1)
        return minhash.signature(doc.text, self.options.minhash, self.perms).tobytes()


class VerifyDoFn(SendPayloadsDoFn):
    """(b, {doc: [wire], firsts: [(a, mode, payload_a)]}) -> edges (a, b) whose similarity
    is >= the mode's threshold, and ``TaggedOutput(CANDIDATES, (b, wire))`` for resolve."""

    def process(self, joined: tuple[str, dict[str, list]]):
        b, groups = joined
        if not groups["doc"] and groups["firsts"]:
            yield stat(UNMATCHED_PAYLOADS, len(groups["firsts"]))
        for wire in groups["doc"]:
            yield beam.pvalue.TaggedOutput(self.CANDIDATES, (b, wire))
            firsts = sorted(groups["firsts"], key=lambda t: t[0])
            if not firsts:
                continue
            yield stat(PAIRS_COMPARED, len(firsts))
            doc = from_wire(wire)
            mode = self.modes[doc.component]
            own = doc.text if mode == LEVENSHTEIN else self.payload(doc, mode)
            for a, _, payload_a in firsts:
                threshold = self.options.threshold_for(mode)
                if similarity(mode, unpack(mode, payload_a), own, threshold) >= threshold:
                    yield a, b


def route_for_resolve(joined: tuple[str, dict[str, list]]):
    """(id, {doc: [wire], root: [root id]}) -> the document itself when it has no
    near-duplicate, else ``TaggedOutput("clustered", (root, wire))``."""
    _, groups = joined
    if not groups["doc"] and groups["root"]:
        yield stat(UNMATCHED_LABELS, len(groups["root"]))
    if len(groups["root"]) > 1:
        yield stat(LABELS_REPEATED, len(groups["root"]) - 1)
    for wire in groups["doc"]:
        if groups["root"]:
            yield beam.pvalue.TaggedOutput("clustered", (groups["root"][0], wire))
        else:
            yield from_wire(wire)


def survivor_order(doc: Document) -> tuple[int, str]:
    """Longest text first (it holds the most code), then smallest id: deterministic."""
    return -len(doc.text), doc.id


def resolve_component(
    docs: Iterable[Document], *, options: NearDedupOptions, mode: str
) -> list[tuple[Document, Document | None, float]]:
    """Greedy clustering of one component: (doc, survivor or None if kept, similarity).

    Members in survivor order; each is compared with the kept members closest to it in
    length first (at most ``max_survivor_checks`` exact comparisons; in Levenshtein mode the
    scan stops at the first survivor too long to reach the threshold) and removed only when
    one is >= threshold similar. Chaining (A~B~C, A vs C below threshold) never removes C for A.
    """
    threshold = options.threshold_for(mode)
    params = options.minhash
    perms = minhash.permutations(params) if mode == JACCARD else None
    survivors: list[tuple[Document, Any]] = []
    out = []
    for doc in sorted(docs, key=survivor_order):
        payload = doc.text if mode == LEVENSHTEIN else minhash.signature(doc.text, params, perms).tobytes()
        match = None
        checks = 0
        for kept, kept_payload in reversed(survivors):
            if mode == LEVENSHTEIN and len(doc.text) < threshold * len(kept.text):
                break  # survivors are sorted longest first: all earlier ones are longer still
            if checks == options.max_survivor_checks:
                break
            checks += 1
            sim = similarity(mode, kept_payload, payload, threshold)
            if sim >= threshold:
                match = (kept, sim)
                break
        if match is None:
            survivors.append((doc, payload))
            out.append((doc, None, 1.0))
        else:
            out.append((doc, match[0], match[1]))
    return out


def size_bucket(n: int) -> str:
    for hi in _HISTOGRAM:
        if n <= hi:
            return f"cluster_size.<={hi}"
    return f"cluster_size.>{_HISTOGRAM[-1]}"


def resolve(root_docs: tuple[str, Iterable[Document]], *, options: NearDedupOptions,
            modes: dict[str, str]):
    """(root id, [wire bytes of a Document]) of one cluster -> kept documents, near-duplicate
    rejects, and stats rows ``(key, n)``."""
    _, wires = root_docs
    docs = [from_wire(w) for w in wires]
    mode = modes[docs[0].component]
    decisions = resolve_component(docs, options=options, mode=mode)
    yield stat(size_bucket(len(docs)))
    yield stat("components")
    survivors = sum(1 for _, kept, _ in decisions if kept is None)
    yield stat("chain_guard_extra_survivors", survivors - 1)
    for doc, survivor, sim in decisions:
        if survivor is None:
            yield doc
            continue
        detail = f"{mode} similarity {sim:.3f} >= {options.threshold_for(mode)} to {survivor.id}"
        yield reject(STAGE, doc, Reason.NEAR_DUPLICATE, detail, duplicate_of=survivor.id,
                     similarity=sim)


def summarise(counts: list[tuple[str, int]]) -> dict:
    """[(counter key, total)] -> the stage's manifest row."""
    totals = dict(counts)
    check_integrity(totals)
    summary = {k: v for k, v in totals.items() if not k.startswith(("unsettled.", "unmatched."))}
    summary["rounds_to_converge"] = rounds_used(totals) or 0
    summary.setdefault("candidate_pairs", 0)
    summary.setdefault("verified_pairs", 0)
    summary.setdefault("components", 0)
    return summary


def needs_dedup(doc: Document, n_partitions: int, modes: dict[str, str]) -> int:
    return 1 if doc.component in modes else 0


def keyed_by_id(doc: Document) -> tuple[str, bytes]:
    """(id, wire bytes): a join holds the compressed document, not the object."""
    return doc.id, to_wire(doc)


def one(_element: Any, key: str) -> tuple[str, int]:
    return key, 1


# ---------------------------------------------------------------- wiring


class _CandidatePairs(beam.PTransform):
    """Band entries (band_key, (size, id)) -> distinct candidate pairs (a, b), a < b."""

    def __init__(self, options: NearDedupOptions, modes: dict[str, str]):
        super().__init__()
        self.options, self.modes = options, modes

    def expand(self, bands):
        ratios = {c: self.options.threshold_for(m) for c, m in self.modes.items()}
        return (
            bands
            | "GroupBands" >> beam.GroupByKey()  # (band_key, [(size, id)])
            | "BucketPairs" >> beam.FlatMap(bucket_candidates, min_ratio=ratios,
                                            max_partners=self.options.max_partners)  # (a, b)
            | "DistinctPairs" >> beam.Distinct()
        )


class _VerifiedEdges(beam.PTransform):
    """(docs, pairs (a, b)) -> (alone, candidates, edges, checks): documents in no candidate
    pair (final, never shuffled again), ``(id, wire bytes)`` of the documents in one, edges
    (a, b) whose exact similarity passes the threshold, and integrity counts (key, n).

    Two joins by id. The first moves every document once with its partners' ids; the second
    only the candidates, each with its smaller partners' payloads (a text travels once per
    pair it is the smaller id of). On the DirectRunner a join's input is held in memory until
    it runs, so this order keeps at most one copy of all texts alive (docs/scale.md).
    """

    def __init__(self, options: NearDedupOptions, modes: dict[str, str]):
        super().__init__()
        self.options, self.modes = options, modes

    def expand(self, docs_and_pairs):
        docs, pairs = docs_and_pairs
        c = SendPayloadsDoFn.CANDIDATES
        keyed = docs | "KeyById" >> beam.Map(keyed_by_id)  # (id, wire)
        ends = pairs | "PairEnds" >> beam.FlatMap(pair_ends)  # (id, partner id)
        sent = (
            {"doc": keyed, "partner": ends}
            | "JoinPartners" >> beam.CoGroupByKey()  # (id, {doc: [wire], partner: [id]})
            | "SendPayloads" >> beam.ParDo(SendPayloadsDoFn(self.options, self.modes))
            .with_outputs(c, SendPayloadsDoFn.SENT, STATS, main="alone")
        )
        verified = (
            {"doc": sent[c], "firsts": sent[SendPayloadsDoFn.SENT]}
            | "JoinPayloads" >> beam.CoGroupByKey()  # (b, {doc: [wire], firsts: [(a, mode, p)]})
            | "Verify" >> beam.ParDo(VerifyDoFn(self.options, self.modes))
            .with_outputs(c, STATS, main="edges")
        )
        checks = (sent[STATS], verified[STATS]) | "FlattenChecks" >> beam.Flatten()
        return sent.alone, verified[c], verified.edges, checks


class _Resolve(beam.PTransform):
    """(candidates (id, wire), labels (id, root id)) -> kept documents, rejects and stats rows
    (key, n)."""

    def __init__(self, options: NearDedupOptions, modes: dict[str, str]):
        super().__init__()
        self.options, self.modes = options, modes

    def expand(self, candidates_and_labels):
        candidates, labels = candidates_and_labels
        routed = (
            {"doc": candidates, "root": labels}
            | "JoinLabels" >> beam.CoGroupByKey()  # (id, {doc: [wire], root: [root id]})
            | "Route" >> beam.FlatMap(route_for_resolve).with_outputs("clustered", STATS,
                                                                     main="alone")
        )
        resolved = (
            routed.clustered  # (root id, wire)
            | "GroupComponents" >> beam.GroupByKey()  # (root id, [wire])
            | "ResolveComponents" >> beam.FlatMap(
                resolve, options=self.options, modes=self.modes).with_outputs(
                REJECTS, STATS, main="kept")
        )
        kept = (routed.alone, resolved.kept) | "FlattenKept" >> beam.Flatten()
        counts = (routed[STATS], resolved[STATS]) | "FlattenResolveStats" >> beam.Flatten()
        return kept, resolved[REJECTS], counts


class NearDedup(beam.PTransform):
    """The near-dedup stage: ``StageOutput(kept, rejects, stats)``; see the module docstring.

    Built by the corpus job as ``NearDedup(config, mixture)``; options: ``config.near_dedup``
    (``NearDedupOptions``). Components whose ``cleaning`` asks for neither ``code_near_dedup``
    nor ``text_near_dedup`` pass through untouched.
    """

    def __init__(self, config, mixture, *, label: str | None = None):
        super().__init__(label)
        if mixture is None:
            raise ValueError("NearDedup needs the mixture (which components to de-duplicate)")
        self.options: NearDedupOptions = config.near_dedup
        self.modes = component_modes(mixture)

    def expand(self, docs):
        options, modes = self.options, self.modes
        passthrough, dedup = docs | "Route" >> beam.Partition(needs_dedup, 2, modes)
        bands = dedup | "Signatures" >> beam.ParDo(SignDoFn(options, modes))  # (key, (size, id))
        pairs = bands | "CandidatePairs" >> _CandidatePairs(options, modes)  # (a, b), a < b
        alone, candidates, edges, checks = (dedup, pairs) | "VerifiedEdges" >> _VerifiedEdges(
            options, modes)
        # labels: (id, root id); cc_counts: ("unsettled.<round>", 0 or 1)
        labels, cc_counts = edges | "Components" >> ConnectedComponents(
            max_rounds=options.max_rounds)
        kept, rejects, counts = (candidates, labels) | "Resolve" >> _Resolve(options, modes)
        stats = (
            (
                pairs | "CountCandidates" >> beam.Map(one, "candidate_pairs"),
                edges | "CountVerified" >> beam.Map(one, "verified_pairs"),
                labels | "CountRoots" >> beam.Map(root_count),
                rejects | "CountRemoved" >> beam.Map(one, "removed"),
                cc_counts,
                counts,
                checks,
            )
            | "FlattenCounts" >> beam.Flatten()
            | "Stats" >> SummariseStats(STAGE, summarise)
        )
        kept = (passthrough, alone, kept) | "FlattenPassthrough" >> beam.Flatten()
        return StageOutput(kept, rejects, stats)
