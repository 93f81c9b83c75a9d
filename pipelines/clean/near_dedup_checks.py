"""Near dedup's proof that its joins delivered every group whole (docs/scale.md, "Determinism
across workers"): counts that the stage's DoFns emit as stats rows, and the check its summary
runs. A document without its partners is a valid-looking group, so a runner that hands a
group over in pieces, or loses part of one, would otherwise keep near-duplicates silently."""

from __future__ import annotations

# A pair's payload is sent once (by its smaller id) and compared once (by the larger one).
PAYLOADS_SENT, PAIRS_COMPARED = "payloads_sent", "pairs_compared"
# Groups of JoinPartners / JoinPayloads / JoinLabels that arrived without their document.
UNMATCHED_PARTNERS, UNMATCHED_PAYLOADS, UNMATCHED_LABELS = (
    "unmatched.partners", "unmatched.payloads", "unmatched.labels")
ROOTS = "unmatched.roots"  # labels (root, root) minus components resolved: 0 unless one split
# Labels beyond one per node: the final neighbour grouping of connected components split (each
# piece of a node's neighbourhood can look settled and name its own root).
LABELS_REPEATED = "unmatched.labels_repeated"


class IntegrityError(RuntimeError):
    """The stage's joins lost or split groups: its output cannot be trusted."""


def check_integrity(totals: dict[str, int]) -> None:
    """Raise unless every candidate pair was sent and compared once, every group of the three
    joins by id held its document and each component was resolved whole: a runner that hands a
    group over in pieces, or loses part of one, would otherwise keep near-duplicates silently
    (docs/scale.md, "Determinism across workers")."""
    pairs = totals.get("candidate_pairs", 0)
    sent, compared = totals.get(PAYLOADS_SENT, 0), totals.get(PAIRS_COMPARED, 0)
    totals = {**totals, ROOTS: totals.get(ROOTS, 0) - totals.get("components", 0)}
    unmatched = {k: v for k, v in totals.items() if k.startswith("unmatched.") and v}
    if unmatched or not pairs == sent == compared:
        raise IntegrityError(
            f"near_dedup: {pairs} candidate pairs, {sent} payloads sent, {compared} compared; "
            f"groups without their document or labelled twice: {unmatched or 'none'}. A "
            f"join's group arrived in pieces or lost part of it (the runner, or a bug here), "
            f"so near-duplicates "
            f"may be kept; the job fails before its manifest is written. Rerun (a resumed "
            f"run rereads nothing) or run one DirectRunner worker; docs/scale.md, "
            f"'Determinism across workers'")


def root_count(label: tuple[str, str]) -> tuple[str, int]:
    """(node, root) -> (ROOTS, 1 if the node is its component's root): one per component."""
    node, root = label
    return ROOTS, int(node == root)
