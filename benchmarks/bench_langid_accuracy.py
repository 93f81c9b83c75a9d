"""Language-ID accuracy on real labelled text from this machine, old policy vs new vs a baseline.

Run:   .venv/bin/python benchmarks/bench_langid_accuracy.py [--out /tmp/lid_eval] [--per-language 12]
Speed: CPU time of this process (time.process_time), so MB/s is per core even on a shared
       machine.
Cost:  ~20 s to build the set (reads every gettext .mo file and the translated man pages),
       ~5 s to score it three times. Nothing is written into the repository.
Output: one table per policy (accuracy, und rate, MB/s), per-language accuracy, and the set's
        JSONL (``<out>/eval.jsonl``) so a run can be re-scored.

The set: every gettext catalogue (``*.mo``, found under /usr and /opt) whose locale names a
language, and the man pages in /usr/share/man/<lang>/. A catalogue's translations (msgstr, the
ones that differ from their msgid) are concatenated, one per line, in msgid order, and one
document of 1-5 KB (length and start chosen from a hash of the file path, so the set is
deterministic) is cut from them; at most ``--per-language`` documents per language, catalogues
chosen in hash order. A man page is stripped of roff markup and cut the same way. The gold
label is the locale's language (``pt_BR`` -> ``pt``, ``sr@latin`` -> ``sr``); macro-language
aliases count as right (nb/nn -> no, sr/hr/bs -> sh). Documents whose language is not among
the model's labels are kept apart: for them the only right answer is ``und``, so they measure
how often a threshold keeps a wrong guess out.

Policies compared on the same documents, in the same run:
  * ``first2000``: the top label of the first 2,000 characters, no threshold;
  * ``old``: the policy before issue 15 (window-weighted mean of top-5, threshold 0.5 on the top
    label alone), kept here verbatim so later runs still compare against it;
  * ``new``: ``pipelines.clean.langid.identify_language``, fastText only (``--langid-second-opinion
    none``);
  * ``new+heliport``: the stage's default, ``new`` with heliport's second opinion
    (``pipelines/clean/lid_second.py``).

``--candidates`` also scores other installable LID models alone (top label of the first 2,000
characters, each model's own "unknown" as ``und``): heliport, pycld2, cld3-py (gcld3), py3langid,
lingua-language-detector, those importable (they are not palmkit dependencies: install them
aside, e.g. ``pip install --target /tmp/lidpkgs pycld2 cld3-py py3langid lingua-language-detector``
and run with ``PYTHONPATH=/tmp/lidpkgs``).
"""

from __future__ import annotations

import argparse
import collections
import glob
import gettext
import gzip
import hashlib
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from palmkit.records import UNDETERMINED  # noqa: E402
from pipelines.clean import langid, lid_second  # noqa: E402

ALIASES = {"nb": "no", "nn": "no", "sr": "sh", "hr": "sh", "bs": "sh"}
# Locale names that are not the ISO code fastText uses.
LOCALE_FIX = {"fil": "tl", "mo": "ro", "kmr": "ku", "zh_HK": "zh", "zh_Hant": "zh",
              "zh_Hans": "zh"}
# Variants whose script or dialect no model label covers: left out rather than mislabelled.
SKIP_VARIANTS = {"be@latin", "tt@iqtelif", "en@shaw", "sr@ije", "uz@cyrillic", "pa_PK", "az_IR"}


def gold_language(locale: str) -> str | None:
    if locale in SKIP_VARIANTS or "." in locale:  # vim's ja.sjis etc.: other encodings
        return None
    if locale in LOCALE_FIX:
        return LOCALE_FIX[locale]
    base = re.split(r"[_@]", locale)[0]
    base = LOCALE_FIX.get(base, base)
    return base if re.fullmatch(r"[a-z]{2,3}", base) else None


def same(pred: str, gold: str) -> bool:
    return ALIASES.get(pred, pred) == ALIASES.get(gold, gold)


def _hash(s: str) -> int:
    return int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big")


def _cut(lines: list[str], key: str) -> str | None:
    """A 1-5 KB run of whole lines starting at a hashed line, or None if there is not enough."""
    text_len = sum(len(x) + 1 for x in lines)
    h = _hash(key)
    target = 1000 + h % 4001
    if text_len < 1000:
        return None
    target = min(target, text_len)
    start = (h >> 16) % len(lines)
    out, n = [], 0
    for i in range(len(lines)):
        line = lines[(start + i) % len(lines)]
        out.append(line)
        n += len(line) + 1
        if n >= target:
            break
    return "\n".join(out)[:5000]


def mo_lines(path: str) -> list[str]:
    try:
        with open(path, "rb") as f:
            cat = gettext.GNUTranslations(f)._catalog
    except Exception:  # noqa: BLE001 -- a broken catalogue is skipped
        return []
    out = []
    for key in sorted(cat, key=str):
        msgid = key[0] if isinstance(key, tuple) else key
        msgstr = cat[key]
        if msgid and msgstr and msgstr != msgid and isinstance(msgstr, str):
            out.append(msgstr.strip())
    return [x for x in out if x]


_ROFF_ESCAPE = re.compile(r"\\(\(..|\[[^\]]*\]|f\(..|f\[[^\]]*\]|f.|s[-+]?\d+|\*\(..|\*.|[-&e|^ 0c%])")
_TEXT_MACROS = {"B", "I", "BR", "RB", "IR", "RI", "BI", "IB", "SH", "SS", "IP", "TP", "SM"}


def man_lines(path: str) -> list[str]:
    try:
        raw = gzip.open(path, "rt", encoding="utf-8", errors="strict").read()
    except Exception:  # noqa: BLE001 -- not UTF-8, or not gzip
        return []
    out = []
    for line in raw.splitlines():
        if line.startswith((".", "'")):
            parts = line[1:].split(None, 1)
            if not parts or parts[0] not in _TEXT_MACROS or len(parts) < 2:
                continue
            line = parts[1].replace('"', "")
        line = _ROFF_ESCAPE.sub("", line).strip()
        if line:
            out.append(line)
    return out


def build_set(model_labels: set[str], per_language: int) -> list[dict]:
    sources: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)  # lang: [(kind, path)]
    for root in ("/usr", "/opt"):
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                if name.endswith(".mo") and "LC_MESSAGES" in dirpath:
                    locale = dirpath.split("/LC_MESSAGES")[0].rsplit("/", 1)[-1]
                    lang = gold_language(locale)
                    if lang:
                        sources[lang].append(("mo", os.path.join(dirpath, name)))
    for path in glob.glob("/usr/share/man/*/man*/*.gz"):
        lang = gold_language(path.split("/")[4])
        if lang:
            sources[lang].append(("man", path))
    docs = []
    for lang in sorted(sources):
        seen_text, n = set(), 0
        for kind, path in sorted(sources[lang], key=lambda s: _hash(s[1])):
            if n >= per_language:
                break
            lines = mo_lines(path) if kind == "mo" else man_lines(path)
            text = _cut(lines, path)
            if text is None or text in seen_text:  # vim's lang/xx and lang/xx.UTF-8 are copies
                continue
            seen_text.add(text)
            docs.append({"lang": lang, "source": kind, "path": path, "text": text,
                         "in_model": ALIASES.get(lang, lang) in model_labels or lang in model_labels})
            n += 1
    return docs


# -- the policy before issue 15, kept verbatim for comparison ----------------------------------

def old_identify(model, text: str, threshold: float = 0.5) -> tuple[str, float]:
    parts = langid.lid_windows(text, window_chars=1000, windows=3)
    if not parts:
        return UNDETERMINED, 0.0
    labels, probs = model.predict(parts, k=5)
    total: dict[str, float] = {}
    weight = sum(len(p) for p in parts)
    for part, labs, ps in zip(parts, labels, probs):
        for lab, p in zip(labs, ps):
            total[lab] = total.get(lab, 0.0) + float(p) * len(part) / weight
    label, prob = max(total.items(), key=lambda kv: (kv[1], kv[0]))
    prob = min(prob, 1.0)
    return (label[9:] if prob >= threshold else UNDETERMINED), prob


def first2000(model, text: str) -> tuple[str, float]:
    line = langid.one_line(text)[:2000]
    if not line:
        return UNDETERMINED, 0.0
    labels, probs = model.predict(line, k=1)
    return labels[0][9:], float(probs[0])


def new_identify(model, text: str) -> tuple[str, float]:
    r = langid.identify_language(model, text)
    return r[0], r[1]


def new_heliport(model, text: str) -> tuple[str, float]:
    return langid.identify_language(model, text, second=lid_second.load_engine("heliport"))


POLICIES = {"first2000": first2000, "old": old_identify, "new": new_identify,
            "new+heliport": new_heliport}


# -- other LID models alone (``--candidates``) --------------------------------------------------

_ISO3 = {v: k for k, v in lid_second.HELIPORT_TO_LID176.items()}


def _candidates() -> dict:
    """{name: fn(text) -> label} for the candidate models that import here."""
    out = {}
    try:
        import heliport

        h = lid_second.load_engine("heliport")
        out["heliport"] = lambda t: lid_second.HELIPORT_TO_LID176.get(
            h.identify(langid.one_line(t)[:2000], ignore_confidence=True), "other")
    except ImportError:
        pass
    try:
        import pycld2

        def cld2(t):
            try:
                code = pycld2.detect(langid.one_line(t)[:2000], bestEffort=True)[2][0][1]
            except pycld2.error:
                return UNDETERMINED
            return {"un": UNDETERMINED, "iw": "he", "jw": "jv"}.get(code, code.split("-")[0])
        out["cld2"] = cld2
    except ImportError:
        pass
    try:
        import gcld3

        d3 = gcld3.NNetLanguageIdentifier(0, 2000)
        out["cld3"] = lambda t: {"iw": "he", "fil": "tl"}.get(
            *(2 * [d3.FindLanguage(langid.one_line(t)[:2000]).language.split("-")[0]]))
    except ImportError:
        pass
    try:
        import py3langid

        out["py3langid"] = lambda t: py3langid.classify(langid.one_line(t)[:2000])[0]
    except ImportError:
        pass
    try:
        from lingua import LanguageDetectorBuilder

        lg = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()

        def lingua(t):
            r = lg.detect_language_of(langid.one_line(t)[:2000])
            return UNDETERMINED if r is None else r.iso_code_639_1.name.lower()
        out["lingua-low"] = lingua
    except ImportError:
        pass
    return out


def candidates(docs: list[dict]) -> None:
    """Each importable candidate alone on the known-language set: accuracy, und, MB/s."""
    known = [d for d in docs if d["in_model"]]
    size = sum(len(d["text"].encode()) for d in known)
    print("\ncandidate models alone (first 2,000 characters, top label; one core):")
    for name, fn in _candidates().items():
        t = time.process_time()
        preds = [fn(d["text"]) for d in known]
        mbs = size / (time.process_time() - t) / 1e6
        acc = sum(same(p, d["lang"]) for p, d in zip(preds, known)) / len(known)
        und = sum(p == UNDETERMINED for p in preds) / len(known)
        print(f"  {name:12} accuracy {acc:.3f} und {und:.3f} {mbs:6.2f} MB/s")


def score_all(model, docs: list[dict], repeats: int = 3) -> tuple[dict, dict]:
    """{policy: predictions}, {policy: MB/s per core}: best of ``repeats`` rounds, each round
    running every policy once in turn (interleaved, so a burst of load elsewhere on the shared
    machine hits them alike), timed in this process's CPU time."""
    size = sum(len(d["text"].encode()) for d in docs)
    best = dict.fromkeys(POLICIES, float("inf"))
    preds: dict = {}
    for _ in range(repeats):
        for name, fn in POLICIES.items():
            t = time.process_time()
            preds[name] = [fn(model, d["text"]) for d in docs]
            best[name] = min(best[name], time.process_time() - t)
    return preds, {name: size / best[name] / 1e6 for name in POLICIES}


def report(docs, results, speeds) -> None:
    known = [i for i, d in enumerate(docs) if d["in_model"]]
    unknown = [i for i, d in enumerate(docs) if not d["in_model"]]
    langs = sorted({docs[i]["lang"] for i in known})
    print(f"documents: {len(known)} in {len(langs)} model languages; {len(unknown)} in "
          f"{len({docs[i]['lang'] for i in unknown})} languages the model does not have")
    print(f"{'policy':12} {'accuracy':>8} {'und':>6} {'und(unknown langs)':>18} {'MB/s':>6}")
    for name, preds in results.items():
        acc = sum(same(preds[i][0], docs[i]["lang"]) for i in known) / len(known)
        und = sum(preds[i][0] == UNDETERMINED for i in known) / len(known)
        und_u = sum(preds[i][0] == UNDETERMINED for i in unknown) / max(len(unknown), 1)
        print(f"{name:12} {acc:8.3f} {und:6.3f} {und_u:18.3f} {speeds[name]:6.2f}")
    # English vs not: what English-only components (books, news) decide.
    for name, preds in results.items():
        tp = sum(preds[i][0] == "en" and docs[i]["lang"] == "en" for i in known)
        fp = sum(preds[i][0] == "en" and docs[i]["lang"] != "en" for i in known + unknown)
        fn = sum(preds[i][0] != "en" and docs[i]["lang"] == "en" for i in known)
        print(f"english-vs-not {name:12} precision {tp / max(tp + fp, 1):.3f} "
              f"recall {tp / max(tp + fn, 1):.3f} (en docs {tp + fn}, false en {fp})")
    names = " / ".join(results)
    print(f"\nper language: documents, accuracy {names} (markdown, 3 per row):")
    cells = []
    for lang in langs:
        idx = [i for i in known if docs[i]["lang"] == lang]
        accs = [sum(same(results[p][i][0], lang) for i in idx) / len(idx) for p in results]
        cells.append(f"{lang} | {len(idx)} | " + " / ".join(f"{a:.2f}" for a in accs))
    print("| " + " | ".join([f"lang | n | {names}"] * 3) + " |")
    print("|" + "---|" * 9)
    for row in range(0, len(cells), 3):
        chunk = cells[row:row + 3] + [" | | "] * (3 - len(cells[row:row + 3]))
        print("| " + " | ".join(chunk) + " |")


def threshold_sweep(model, docs) -> None:
    """Accuracy and und rates of the new aggregation at several thresholds (calibration)."""
    known = [d for d in docs if d["in_model"]]
    unknown = [d for d in docs if not d["in_model"]]
    o = langid.LangIdOptions(threshold=0.0, min_letters=0)
    scored_k = [(r.top, r.score, r.score) for r in
                (langid.score_language(model, d["text"], o) for d in known)]
    scored_u = [(r.top, r.score, r.score) for r in
                (langid.score_language(model, d["text"], o) for d in unknown)]
    print("\nthreshold sweep (new aggregation; group score vs threshold):")
    for t in (0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5):
        acc = sum(same(r[0], d["lang"]) and r[2] >= t for r, d in zip(scored_k, known))
        und = sum(r[2] < t for r in scored_k)
        und_u = sum(r[2] < t for r in scored_u)
        wrong_kept = sum(r[2] >= t and not same(r[0], d["lang"]) for r, d in zip(scored_k, known))
        print(f"  t={t:.2f} accuracy {acc / len(known):.3f} und {und / len(known):.3f} "
              f"wrong-kept {wrong_kept / len(known):.3f} und(unknown) "
              f"{und_u / max(len(unknown), 1):.3f}")


def speed_documents(mb: float) -> list[dict]:
    """~``mb`` MB of real text (.md/.rst/.txt of /usr/share/doc and site-packages, sorted by
    path) cut into documents of log-normal length (median ~3 KB, seeded), like
    benchmarks/bench_clean_text.py's set: long documents, where the windows matter."""
    import random

    rng, paths = random.Random(0), []
    for root in ("/usr/share/doc", os.path.dirname(os.path.dirname(os.__file__))):
        for dirpath, _dirs, files in os.walk(root):
            paths += [os.path.join(dirpath, f) for f in files if f.endswith((".md", ".rst", ".txt"))]
    docs, total = [], 0
    for path in sorted(paths):
        try:
            text = open(path, encoding="utf-8").read()
        except (OSError, UnicodeDecodeError):
            continue
        while text and total < mb * 1e6:
            n = int(rng.lognormvariate(8.0, 1.5))
            docs.append({"text": text[:n]})
            total += len(text[:n].encode())
            text = text[n:]
        if total >= mb * 1e6:
            break
    return docs


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/palmkit_lid_eval")
    ap.add_argument("--per-language", type=int, default=12)
    ap.add_argument("--sweep", action="store_true", help="also sweep the threshold")
    ap.add_argument("--candidates", action="store_true",
                    help="also score the other installable LID models alone")
    ap.add_argument("--speed-mb", type=float, default=20,
                    help="MB of long real text to time the policies on (0: skip)")
    args = ap.parse_args(argv)
    model = langid.load_model()
    labels = {x[9:] for x in model.get_labels()}
    t = time.perf_counter()
    docs = build_set(labels, args.per_language)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "eval.jsonl"), "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    print(f"built {len(docs)} documents in {time.perf_counter() - t:.1f} s -> {args.out}")
    lid_second.load_engine("heliport")  # loaded once (~2 s), before the clock starts
    results, speeds = score_all(model, docs)
    report(docs, results, speeds)
    if args.sweep:
        threshold_sweep(model, docs)
    if args.candidates:
        candidates(docs)
    if args.speed_mb:
        long_docs = speed_documents(args.speed_mb)
        size = sum(len(d["text"].encode()) for d in long_docs)
        print(f"\nspeed on {len(long_docs)} documents, {size / 1e6:.1f} MB of .md/.rst/.txt "
              f"(best of 3 interleaved rounds, CPU time, one core):")
        long_preds, long_speeds = score_all(model, long_docs, repeats=3)
        for name in POLICIES:
            preds, mbs = long_preds[name], long_speeds[name]
            und = sum(p[0] == UNDETERMINED for p in preds) / len(preds)
            print(f"  {name:12} {mbs:6.2f} MB/s  {len(long_docs) * mbs / size * 1e6:7.0f} docs/s"
                  f"  und {und:.3f}")


if __name__ == "__main__":
    main()
