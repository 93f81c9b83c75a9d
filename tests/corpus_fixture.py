"""Write a folder shaped like `palmkit corpus` output, for tests (and the corpus author to reuse).

``write_corpus(root, {"web": [("en", "text"), ...], "code": [...]}, mixture="palm")`` writes
``root/clean/<component>/part-00000.parquet`` (palmkit.records.DOCUMENT_SCHEMA) and
``root/manifest.json`` (stage "corpus", every file with rows/bytes/SHA-256, config.mixture).
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import pyarrow.parquet as pq

from palmkit.manifest import Manifest, file_entry
from palmkit.records import Document, documents_to_table, make_id


def write_corpus(
    root,
    docs_by_component: Mapping[str, Sequence[tuple[str | None, str]]],
    *,
    mixture: str = "palm",
    files_per_component: int = 1,
) -> str:
    """Write (language, text) pairs per component; returns the folder as a string."""
    root = str(root)
    outputs, counts = {}, {}
    for component, docs in sorted(docs_by_component.items()):
        folder = os.path.join(root, "clean", component)
        os.makedirs(folder, exist_ok=True)
        for part in range(files_per_component):
            rows = [
                Document(
                    id=make_id(f"{component}.jsonl", i),
                    text=text,
                    component=component,
                    source=f"{component}.jsonl",
                    record=i,
                    language=language,
                )
                for i, (language, text) in enumerate(docs)
                if i % files_per_component == part
            ]
            rel = f"clean/{component}/part-{part:05d}.parquet"
            pq.write_table(documents_to_table(rows), os.path.join(root, rel))
            outputs[rel] = file_entry(os.path.join(root, rel), len(rows))
        counts[component] = {"read": len(docs), "kept": len(docs), "rejected": {},
                             "kept_bytes": sum(len(t.encode("utf-8")) for _, t in docs)}
    Manifest(stage="corpus", config={"mixture": mixture}, outputs=outputs,
             counts=counts).write(root)
    return root
