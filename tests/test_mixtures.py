"""Mixtures as data: the built-ins reproduce the paper, user files validate with clear errors."""

import pytest

import mixtures
from mixtures import MixtureError


def test_palm_mixture_is_table_2():
    m = mixtures.get("palm")
    assert m.total_tokens == 780_000_000_000
    assert m.shares == {"dialogue": 0.50, "web": 0.27, "books": 0.13, "code": 0.05,
                        "wikipedia": 0.04, "news": 0.01}
    assert m.component("books").languages == ("en",) and m.component("news").languages == ("en",)
    assert m.component("web").languages is None  # multilingual
    assert m.component("web").cleaning.quality_sampling
    assert m.component("code").cleaning.code_near_dedup and m.component("code").cleaning.license_filter
    assert all(c.cleaning.exact_dedup for c in m.components.values())
    assert not any(c.cleaning.text_near_dedup for c in m.components.values())  # PaLM: full docs only
    assert set(m.quality_reference) == {"wikipedia", "books", "news"}


def test_palm_refresh_is_appendix_f():
    m = mixtures.get("palm-refresh")
    assert m.total_tokens == 1_325_000_000_000
    assert m.shares["dialogue"] == 0.40 and m.shares["code"] == 0.10
    assert m.shares["arxiv_math"] == 0.05
    assert abs(sum(m.shares.values()) - 1) < 1e-9


def test_user_mixture_file(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("name: my-mix\ncomponents:\n  web: {share: 0.5}\n  dialogue: {share: 0.3}\n"
                    "  code: {share: 0.2, cleaning: {license_filter: true}}\n")
    m = mixtures.get(str(path))
    assert m.name == "my-mix" and m.shares == {"web": 0.5, "dialogue": 0.3, "code": 0.2}
    assert m.component("code").cleaning.license_filter
    assert m.component("web").accepts_language("ja")


@pytest.mark.parametrize("body, message", [
    ("components:\n  web: {share: 0.5}\n  code: {share: 0.4}\n", "sum to 0.9"),
    ("components:\n  web: {share: -1}\n  code: {share: 2}\n", "share"),
    ("components:\n  web: {share: 1, langs: [en]}\n", "unknown key"),
    ("components:\n  web: {share: 1, cleaning: {dedup: true}}\n", "unknown key"),
    ("components:\n  web: {share: 1, languages: en}\n", "list of language codes"),
    ("components: {}\n", "non-empty"),
    ("components:\n  web: {share: 1}\nquality_reference: [books]\n", "undeclared"),
    ("components: [web\n", "not valid YAML"),
])
def test_invalid_mixtures_fail_with_a_clear_message(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(MixtureError, match=message) as err:
        mixtures.get(str(path))
    assert "bad.yaml" in str(err.value)


def test_unknown_name_and_unknown_components():
    with pytest.raises(MixtureError, match="unknown mixture 'palm-9000'"):
        mixtures.get("palm-9000")
    with pytest.raises(MixtureError, match=r"\['reddit'\]"):
        mixtures.get("palm").check_components(["web", "reddit"])


def test_a_user_mixture_travels_in_the_corpus_manifest(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nquality_reference: [books]\ncomponents:\n"
                    "  web: {share: 0.75, cleaning: {quality_sampling: true}}\n"
                    "  books: {share: 0.25, languages: [en], description: novels}\n")
    original = mixtures.get(str(path))
    data = mixtures.to_data(original)
    path.unlink()  # the file is gone; the corpus manifest still knows the mixture
    again = mixtures.from_manifest({"mixture": "mine", "mixture_definition": data})
    assert again.shares == original.shares and again.quality_reference == ("books",)
    assert again.components["books"].languages == ("en",)
    assert again.components["web"].cleaning == original.components["web"].cleaning
    assert mixtures.from_manifest({"mixture": "palm"}).name == "palm"
    assert mixtures.from_manifest({"mixture": "mine"}, "palm-refresh").name == "palm-refresh"
