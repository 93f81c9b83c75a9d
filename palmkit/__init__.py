"""palmkit: the data side of PaLM and the trainer it feeds.

This small package holds what both sides share: the record and file formats
(`palmkit.records`), the stage manifests (`palmkit.manifest`) and the `palmkit`
command line (`palmkit.cli`). It imports neither Apache Beam nor JAX, so the
Beam jobs in `pipelines/` and the trainer in `trainer/` can both depend on it.
"""

__version__ = "0.1.0"
