"""A second language-ID opinion (heliport, HeLI-OTS 2.0) where lid.176 is known to be weak.

Why
---
lid.176.ftz's top label is right for only ~88% of real text on docs/langid.md's set, and no
decision rule over its output repairs the rest: its errors are confusions between close
languages (Sardinian, Occitan, Walloon and Aragonese read as Catalan; Asturian, Galician,
Interlingua as Spanish; Afrikaans, Limburgish as Dutch; Low German, Bavarian as German).
heliport (PyPI ``heliport``, a Rust port of HeLI-OTS 2.0: character n-gram language models of
220 languages, bundled in the wheel, 129 MB installed, GPL-3.0) tells those apart well, but it
is slower than fastText and lacks some of lid.176's languages (Indonesian, Asturian, Aragonese,
Limburgish, Maithili, Low German: it reads Indonesian as Malay). So it is asked only:

* when fastText's label (the top of the close-language group) is one of ``CONFUSABLE`` (the
  Romance and West Germanic languages lid.176 confuses), or its summed probability is below
  ``second_opinion_below`` (0.4; this includes the ``und`` decisions), and
* its answer is taken only if it is one of lid.176's labels (``HELIPORT_TO_LID176``: the
  stage's label set stays lid.176's), fastText's label is a language heliport knows
  (otherwise heliport cannot say it, e.g. Indonesian, and its answer says nothing) and, when
  fastText was confident, the answer is in the same family (``accepted``). When the two agree,
  the label stands even below ``--langid-threshold``.

Measured on docs/langid.md's set (1,047 documents, 110 languages; benchmarks/
bench_langid_accuracy.py): fastText alone 86.7%, heliport alone 88.6% (first 2,000 characters),
this combination 93.0%, asking heliport for 20.5% of the documents, at 0.87-0.94x fastText-only
speed (7.2 MB/s per core on long documents, 7.9 on the set); 95.0% vs 93.8% on 842 held-out
documents of the same sources. What it costs: ``und``
for text in languages neither model knows falls from 51% to 41% (heliport answers where
fastText hesitated), and loading heliport's models takes ~2 s and ~130 MB per worker.
heliport is GPL-3.0 (palmkit is Apache-2.0): ``--langid-second-opinion none`` runs without it.
"""

from __future__ import annotations

from palmkit.errors import UserError

#: The engines ``--langid-second-opinion`` accepts.
ENGINES = ("heliport", "none")

#: fastText labels for which heliport is asked even when fastText is confident: the Romance and
#: West Germanic languages whose neighbours lid.176 confuses (docs/langid.md, per-language errors).
ROMANCE = frozenset({
    "ca", "es", "gl", "oc", "sc", "ast", "an", "it", "pt", "fr", "wa", "ia", "io", "eo", "ie",
    "la", "co", "lmo", "scn", "vec", "pms", "nap", "rm", "mwl"})
WEST_GERMANIC = frozenset({"nl", "af", "li", "de", "nds", "bar", "lb", "fy", "vls", "pfl"})
CONFUSABLE = ROMANCE | WEST_GERMANIC
FAMILY = {**dict.fromkeys(ROMANCE, "romance"), **dict.fromkeys(WEST_GERMANIC, "west_germanic")}

# heliport's ISO 639-3 codes -> lid.176's labels, for the 136 of its 220 languages that lid.176
# also has (from the ISO 639-3 tables; individual languages mapped to their macro-language's
# 2-letter code: cmn -> zh, pes -> fa, uzn -> uz, hbs -> sh).
_PAIRS = (
    "afr:af amh:am ara:ar asm:as aze:az bak:ba bar:bar bcl:bcl bel:be ben:bn bod:bo bpy:bpy "
    "bre:br bul:bg cat:ca ceb:ceb ces:cs che:ce chv:cv ckb:ckb cmn:zh cor:kw cos:co cym:cy "
    "dan:da deu:de diq:diq div:dv ell:el eng:en epo:eo est:et eus:eu fin:fi fra:fr fry:fy "
    "gla:gd gle:ga glg:gl glv:gv gom:gom grn:gn guj:gu hat:ht hbs:sh heb:he hin:hi hsb:hsb "
    "hun:hu hye:hy ido:io ilo:ilo ina:ia isl:is ita:it jpn:ja kan:kn kat:ka kaz:kk khm:km "
    "kir:ky kmr:ku kor:ko kpv:kv krc:krc lao:lo lat:la lav:lv lit:lt lmo:lmo ltz:lb mal:ml "
    "mar:mr mhr:mhr mkd:mk mlg:mg mlt:mt mon:mn mrj:mrj msa:ms mwl:mwl mya:my myv:myv nep:ne "
    "nhn:nah nld:nl nno:nn nob:nb oci:oc ori:or oss:os pam:pam pan:pa pbt:ps pes:fa pfl:pfl "
    "pms:pms pnb:pa pol:pl por:pt que:qu roh:rm ron:ro rus:ru sah:sah scn:scn sin:si slk:sk "
    "slv:sl snd:sd som:so spa:es sqi:sq srd:sc swa:sw swe:sv tam:ta tat:tt tel:te tgk:tg "
    "tgl:tl tha:th tuk:tk tur:tr uig:ug ukr:uk urd:ur uzn:uz vie:vi vls:vls vol:vo war:war "
    "wln:wa xmf:xmf yid:yi yor:yo")
HELIPORT_TO_LID176 = dict(p.split(":") for p in _PAIRS.split())
#: lid.176 labels heliport can answer (its languages, plus the members of the close-language
#: groups it knows as one: heliport's hbs covers hr/sr/bs).
HELIPORT_KNOWS = frozenset(HELIPORT_TO_LID176.values()) | {"hr", "sr", "bs", "no"}

_ENGINES: dict[str, object] = {}
#: Characters of the scored windows heliport reads (the first window, at the default 1,000 per
#: window). Its cost is linear in length; measured, 1,000 or all 3,000 characters give the same
#: accuracy on docs/langid.md's set (93.0%), 600 a little less (92.9%).
HELIPORT_CHARS = 1000


class SecondOpinionError(UserError):
    """The second-opinion engine named by ``--langid-second-opinion`` cannot be used."""


def _missing(name: str, e: Exception) -> SecondOpinionError:
    return SecondOpinionError(
        f"--langid-second-opinion {name}: the {name} package is not installed ({e}); "
        f"pip install 'palmkit[lid]' (GPL-3.0), or pass --langid-second-opinion none")


def check_engine(name: str) -> None:
    """Before the pipeline starts: engine ``name`` is known and installed (nothing loaded)."""
    import importlib.util

    if name not in ENGINES:
        raise SecondOpinionError(f"--langid-second-opinion {name!r}: choose one of {list(ENGINES)}")
    if name != "none" and importlib.util.find_spec(name) is None:
        raise _missing(name, ModuleNotFoundError(f"no module named {name!r}"))


def load_engine(name: str):
    """The engine ``name`` (``heliport``), loaded once per process (~2 s); None for ``none``."""
    if name == "none":
        return None
    if name not in ENGINES:
        raise SecondOpinionError(f"--langid-second-opinion {name!r}: choose one of {list(ENGINES)}")
    engine = _ENGINES.get(name)
    if engine is None:
        try:
            import heliport  # imported here: ~130 MB of n-gram tables, only where asked for
        except ImportError as e:
            raise _missing(name, e) from None
        engine = _ENGINES[name] = heliport.Identifier()
    return engine


def wants_second_opinion(label: str, score: float, *, below: float) -> bool:
    """Whether fastText's ``label`` (top of its group) with group ``score`` is worth a check."""
    return (label in CONFUSABLE or score < below) and label in HELIPORT_KNOWS


def accepted(top: str, score: float, other: str, *, below: float) -> bool:
    """Whether heliport's ``other`` replaces fastText's confident-enough ``top``: when heliport
    was asked only because ``top`` is confusable (``score >= below``), its answer must stay in
    ``top``'s family (Catalan -> Sardinian, not Italian -> English: on partly translated man
    pages heliport reads the English lines; measured, this keeps 2 more of the 144 documents
    of the 12 largest PaLM languages right and the whole set +0.2 points)."""
    return score < below or FAMILY.get(other) == FAMILY.get(top)


def second_label(engine, parts: list[str]) -> str | None:
    """heliport's label for the scored windows ``parts`` as a lid.176 label; None when it has
    no answer among lid.176's labels."""
    if not parts:
        return None
    code = engine.identify(" ".join(parts)[:HELIPORT_CHARS], ignore_confidence=True)
    return HELIPORT_TO_LID176.get(code)
