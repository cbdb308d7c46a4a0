"""The article's language: the page's declaration, overridden only by a confident detector
reading a long enough body (pipeline/extraction/language.py)."""

from __future__ import annotations

import pytest

from pipeline.extraction.extract import extract_article
from pipeline.extraction.language import (
    CONFIDENT,
    MIN_WORDS_TO_OVERRIDE,
    Detected,
    detect,
    reconcile,
)
from pipeline.sources.config import Source
from tests.test_extract import FETCHED, PARAGRAPHS, page

AFRIKAANS = [
    "Die stadsraad het Dinsdag ná 'n lang debat die nuwe vervoerbegroting goedgekeur, hoewel "
    "verskeie lede hulle kommer oor die koste uitgespreek het.",
    "Ondersteuners sê die plan sal reistye in die hele streek verkort en nuwe busroetes na "
    "woonbuurte bring wat al meer as 'n dekade swak bedien word.",
    "Teenstanders het aangevoer dat die syfers wat aan die raad voorgelê is te optimisties is en "
    "dat die projek sy begroting kan oorskry, soos soortgelyke skemas in ander stede gedoen het.",
    "Die burgemeester het gesê die eerste werk sal in die lente begin en het gereelde openbare "
    "verslae oor die vordering van die skema en oor die besteding van die geld belowe.",
]
# RUF001 is silenced below: Cyrillic letters that look Latin are Russian text, as meant.
RUSSIAN = [
    "Городской совет во вторник после долгих дебатов утвердил новый транспортный бюджет, хотя "
    "несколько депутатов выразили сомнения по поводу его стоимости.",  # noqa: RUF001
    "Сторонники плана говорят, что он сократит время в пути по всему региону и приведёт новые "
    "автобусные маршруты в районы, которые больше десяти лет обслуживались плохо.",
    "Противники утверждают, что представленные совету цифры слишком оптимистичны и что проект "
    "может выйти за рамки бюджета, как это уже случалось в соседних городах.",
    "Мэр сообщил, что первые работы начнутся весной, и пообещал регулярно отчитываться о ходе "  # noqa: RUF001
    "проекта и о том, как расходуются деньги.",  # noqa: RUF001
]
GERMAN = [
    "Der Stadtrat hat am Dienstag nach einer langen Debatte den neuen Verkehrshaushalt "
    "beschlossen, obwohl mehrere Mitglieder Bedenken wegen der Kosten äußerten.",
    "Befürworter sagen, der Plan werde die Fahrzeiten in der ganzen Region verkürzen und neue "
    "Buslinien in Viertel bringen, die seit mehr als zehn Jahren schlecht angebunden sind.",
    "Gegner halten die dem Rat vorgelegten Zahlen für zu optimistisch und befürchten, dass das "
    "Projekt wie ähnliche Vorhaben in Nachbarstädten das Budget überschreitet.",
    "Der Bürgermeister sagte, die ersten Arbeiten würden im Frühjahr beginnen, und versprach "
    "regelmäßige öffentliche Berichte über den Fortschritt und die Ausgaben.",
]


def _language(paragraphs: list[str], lang: str, source: Source | None = None) -> str | None:
    html = page(paragraphs=paragraphs, lang=lang, h1="Transport")
    if not lang:
        html = html.replace(' lang=""', "")
    return extract_article(html, "https://example.org/a", source=source,
                           fetched_at=FETCHED).language


@pytest.mark.parametrize(
    ("paragraphs", "lang", "expected"),
    [
        (AFRIKAANS, "af", "af"),  # once labelled nl by a stopword count
        (AFRIKAANS, "", "af"),
        (RUSSIAN, "en", "ru"),  # once left as the template's en
        (GERMAN, "en", "de"),
        (PARAGRAPHS[:1], "de", "de"),  # a short body never overrides the declaration
        (PARAGRAPHS, "en-GB", "en"),  # only the base language is stored
    ],
    ids=["af-declared", "af-undeclared", "ru-under-en", "de-under-en", "short-en-under-de",
         "en-gb"],
)
def test_declaration_against_the_detector(paragraphs, lang, expected) -> None:
    assert _language(paragraphs, lang) == expected


def test_source_language_is_a_declaration_the_detector_can_override() -> None:
    french_site = Source(name="fr_site", homepage="https://exemple.fr/", language="fr")
    assert _language(PARAGRAPHS[:1], "", french_site) == "fr"
    assert _language(RUSSIAN, "", french_site) == "ru"


def test_detect_is_confident_on_a_paragraph_and_counts_chinese_varieties_as_chinese() -> None:
    assert detect(" ".join(AFRIKAANS)) == Detected("af", pytest.approx(1.0, abs=1 - CONFIDENT))
    wu_or_mandarin = "新华社北京4月24日电 习近平主席向首届中国拉美和加勒比国家航天合作论坛致贺信"
    assert detect(wu_or_mandarin).language == "zh"
    assert detect("12 345 ... !!!").probability < CONFIDENT


@pytest.mark.parametrize(
    ("declared", "detected", "words", "expected"),
    [
        ("en", Detected("ru", 0.99), MIN_WORDS_TO_OVERRIDE, "ru"),
        ("en", Detected("ru", 0.99), MIN_WORDS_TO_OVERRIDE - 1, "en"),
        ("en", Detected("ru", CONFIDENT - 0.01), 500, "en"),
        ("nb", Detected("no", 1.0), 500, "nb"),  # one language, two spellings
        ("hr", Detected("bs", 0.99), 500, "hr"),  # standards the detector confuses
        ("id", Detected("ms", 0.99), 500, "id"),
        ("hr", Detected("sl", 0.99), 500, "sl"),  # a neighbour outside the macrolanguage
        (None, Detected("ru", CONFIDENT), 5, "ru"),
        (None, Detected("ru", CONFIDENT - 0.01), 500, None),
    ],
)
def test_reconcile_rule(declared, detected, words, expected) -> None:
    assert reconcile(declared, detected, words) == expected


def test_a_short_body_with_a_declared_language_is_not_run_through_the_detector(monkeypatch):
    """A short body never overrides a declaration, so its detection is not paid for."""
    from pipeline.extraction import language as language_module

    def no_detector(text):
        raise AssertionError("detector called")

    monkeypatch.setattr(language_module, "detect", no_detector)
    page = type("Page", (), {"html_lang": "de", "ld": lambda self, key: [],
                             "first": lambda self, *keys: None})()
    assert language_module.language(page, None, "kurz", MIN_WORDS_TO_OVERRIDE - 1) == "de"
