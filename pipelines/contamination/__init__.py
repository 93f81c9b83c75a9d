"""`palmkit contamination`: which evaluation examples occur in a corpus (PaLM section 8).

Modules: ``ngrams`` (normalisation, units, stable 64-bit n-gram hashes; pure NumPy),
``evalsets`` (the evaluation-sets YAML, records -> examples), ``scan`` (per-element logic of
the Beam job), ``outputs`` (files written), ``job`` (config, wiring, ``main``), ``cli`` (flags
only), ``report`` (summary rows and the HTML section for `palmkit stats`). docs/contamination.md.
"""
