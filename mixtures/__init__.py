"""Mixtures as plain data.

A mixture is a YAML file: a name, a token budget and, per component, its share of tokens, the
languages it accepts and the cleaning rules that apply to it. The built-in mixtures are YAML
files in this folder, looked up in the explicit ``BUILTIN`` table (no registration by import
side effects); a user's mixture is a YAML file of the same form passed by path::

    name: my-mix
    total_tokens: 1000000000          # optional; the pack job can also take --total-tokens
    quality_reference: [wikipedia]    # optional; components that count as "curated" text
    components:
      web:      {share: 0.5, cleaning: {quality_sampling: true}}
      dialogue: {share: 0.3}
      code:     {share: 0.2, cleaning: {license_filter: true, code_near_dedup: true}}
      books:    {share: 0.0, languages: [en]}   # read and cleaned, but not sampled

Per-component keys: ``share`` (required, >= 0, all shares sum to 1), ``languages`` (list of
fastText codes; omitted = any language), ``description``, and ``cleaning`` with the booleans
in ``Cleaning``. Component names are identifiers (``COMPONENT_NAME``: they name output
folders). This module imports neither Beam nor JAX.
"""

from __future__ import annotations

from palmkit.errors import UserError

import dataclasses
import math
import os
import re
from typing import Any, Iterable

import yaml

_HERE = os.path.dirname(os.path.abspath(__file__))

#: Built-in mixtures: name -> YAML file in this folder.
BUILTIN: dict[str, str] = {
    "palm": "palm.yaml",
    "palm-refresh": "palm_refresh.yaml",
}

SHARE_TOLERANCE = 1e-6

#: What a component name may be. Names become folder names (``OUT/clean/<component>/``), file
#: names and Beam counter names, so they are identifiers: an ASCII letter or digit, then letters,
#: digits, ``_``, ``.`` or ``-``. No ``/`` or ``\\`` (a name ``../../x`` would write outside the
#: output folder), no leading dot (``.``, ``..`` and hidden folders), no spaces or non-ASCII
#: (the same name must mean the same folder on every filesystem and object store).
COMPONENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def component_name_problem(name: Any) -> str | None:
    """Why ``name`` cannot be a component name (None: it can); see ``COMPONENT_NAME``."""
    text = str(name)
    if text in (".", "..") or "/" in text or "\\" in text or not COMPONENT_NAME.fullmatch(text):
        return (f"component name {text!r} is not an identifier (ASCII letters, digits, '_', "
                f"'.', '-', starting with a letter or digit): it names output folders")
    return None


class MixtureError(UserError):
    """A mixture that cannot be used, with a message that says why."""


@dataclasses.dataclass(frozen=True)
class Cleaning:
    """Which cleaning stages apply to a component (defaults: PaLM's treatment of text)."""

    exact_dedup: bool = True  # full-document exact dedup (PaLM, section 7)
    quality_sampling: bool = False  # web: score-proportional sampling by a quality classifier
    license_filter: bool = False  # code: permissive licenses only
    code_near_dedup: bool = False  # code: Levenshtein near-duplicate removal
    text_near_dedup: bool = False  # optional MinHash/Jaccard near-dedup (off in PaLM)
    heuristics: bool = False  # optional Gopher heuristic filters (off in PaLM: it used the classifier)


@dataclasses.dataclass(frozen=True)
class Component:
    name: str
    share: float
    languages: tuple[str, ...] | None = None  # None: any language
    description: str = ""
    cleaning: Cleaning = Cleaning()

    def accepts_language(self, language: str) -> bool:
        return self.languages is None or language in self.languages


@dataclasses.dataclass(frozen=True)
class Mixture:
    name: str
    components: dict[str, Component]
    total_tokens: int | None = None
    quality_reference: tuple[str, ...] = ()
    description: str = ""
    reference: str = ""
    origin: str = ""  # the file it was read from

    @property
    def shares(self) -> dict[str, float]:
        return {name: c.share for name, c in self.components.items()}

    def component(self, name: str) -> Component:
        try:
            return self.components[name]
        except KeyError:
            raise MixtureError(
                f"component '{name}' is not in mixture '{self.name}' "
                f"(it has: {', '.join(self.components)})"
            ) from None

    def check_components(self, names: Iterable[str], *, what: str = "the sources file") -> None:
        """Fail when ``names`` (e.g. the components of a sources file) are not all declared."""
        unknown = sorted(set(names) - set(self.components))
        if unknown:
            raise MixtureError(
                f"{what} names component(s) {unknown} that mixture '{self.name}' "
                f"({self.origin}) does not declare; declared: {sorted(self.components)}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def get(name_or_path: str) -> Mixture:
    """A built-in mixture by name (``palm``, ``palm-refresh``) or a user's YAML file by path."""
    if name_or_path in BUILTIN:
        return load(os.path.join(_HERE, BUILTIN[name_or_path]))
    if os.path.exists(name_or_path):
        return load(name_or_path)
    raise MixtureError(
        f"unknown mixture '{name_or_path}': not a built-in ({', '.join(BUILTIN)}) "
        f"and no such file"
    )


def load(path: str) -> Mixture:
    with open(path, encoding="utf-8") as f:
        try:
            data = yaml.safe_load(f)
        except yaml.YAMLError as e:
            raise MixtureError(f"{path}: not valid YAML: {e}") from None
    return from_dict(data, origin=path)


_TOP_KEYS = {"name", "components", "total_tokens", "quality_reference", "description", "reference"}
_COMPONENT_KEYS = {"share", "languages", "description", "cleaning"}
_CLEANING_KEYS = {f.name for f in dataclasses.fields(Cleaning)}


def _check_keys(got: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(got) - allowed)
    if extra:
        raise MixtureError(f"{where}: unknown key(s) {extra}; allowed: {sorted(allowed)}")


def from_dict(data: Any, *, origin: str = "<dict>") -> Mixture:
    """Validate and build a mixture; every error names the file and the offending key."""
    if not isinstance(data, dict):
        raise MixtureError(f"{origin}: a mixture is a mapping with 'name' and 'components'")
    _check_keys(data, _TOP_KEYS, origin)
    name = data.get("name") or os.path.splitext(os.path.basename(origin))[0]
    raw = data.get("components")
    if not isinstance(raw, dict) or not raw:
        raise MixtureError(f"{origin}: 'components' must be a non-empty mapping")
    components = {}
    for cname, spec in raw.items():
        where = f"{origin}: component '{cname}'"
        problem = component_name_problem(cname)
        if problem:
            raise MixtureError(f"{origin}: {problem}")
        spec = spec or {}
        if not isinstance(spec, dict):
            raise MixtureError(f"{where}: expected a mapping such as {{share: 0.5}}")
        _check_keys(spec, _COMPONENT_KEYS, where)
        share = spec.get("share")
        if (not isinstance(share, (int, float)) or isinstance(share, bool)
                or not math.isfinite(share) or share < 0):  # NaN passes `< 0` and sums
            raise MixtureError(f"{where}: 'share' must be a finite number >= 0, got {share!r}")
        langs = spec.get("languages")
        if langs is not None and (
            not isinstance(langs, list) or not all(isinstance(x, str) for x in langs)
        ):
            raise MixtureError(f"{where}: 'languages' must be a list of language codes")
        cleaning = spec.get("cleaning") or {}
        _check_keys(cleaning, _CLEANING_KEYS, f"{where} cleaning")
        components[str(cname)] = Component(
            name=str(cname),
            share=float(share),
            languages=tuple(langs) if langs is not None else None,
            description=str(spec.get("description", "")),
            cleaning=Cleaning(**{k: bool(v) for k, v in cleaning.items()}),
        )
    total = sum(c.share for c in components.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise MixtureError(f"{origin}: shares sum to {total:.6g}, they must sum to 1")
    ref = tuple(data.get("quality_reference") or ())
    missing = sorted(set(ref) - set(components))
    if missing:
        raise MixtureError(f"{origin}: quality_reference names undeclared components {missing}")
    total_tokens = data.get("total_tokens")
    if total_tokens is not None and (not isinstance(total_tokens, int) or total_tokens <= 0):
        raise MixtureError(f"{origin}: 'total_tokens' must be a positive integer")
    return Mixture(
        name=str(name),
        components=components,
        total_tokens=total_tokens,
        quality_reference=ref,
        description=str(data.get("description", "")),
        reference=str(data.get("reference", "")),
        origin=origin,
    )


def to_data(mixture: Mixture) -> dict[str, Any]:
    """The mixture as the plain data ``from_dict`` reads (what a YAML file holds)."""
    components = {}
    for name, c in mixture.components.items():
        spec: dict[str, Any] = {"share": c.share, "cleaning": dataclasses.asdict(c.cleaning)}
        if c.languages is not None:
            spec["languages"] = list(c.languages)
        if c.description:
            spec["description"] = c.description
        components[name] = spec
    data: dict[str, Any] = {"name": mixture.name, "components": components,
                            "quality_reference": list(mixture.quality_reference)}
    for key in ("total_tokens", "description", "reference"):
        if getattr(mixture, key):
            data[key] = getattr(mixture, key)
    return data


def from_manifest(config: dict[str, Any], override: str | None = None) -> Mixture:
    """The mixture a corpus was built for, from its manifest's ``config``: ``override`` (a name
    or path) when given; else the definition the corpus job recorded for a user's mixture (so a
    corpus built from ``my_mix.yaml`` is packed with it, wherever that file went); else the
    built-in name."""
    if override:
        return get(override)
    definition = config.get("mixture_definition")
    if definition is not None:
        return from_dict(definition, origin=f"the corpus manifest's mixture "
                                            f"'{config.get('mixture')}'")
    return get(config.get("mixture", "palm"))
