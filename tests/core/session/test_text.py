"""Client text made storable: what every driver accepts, and nothing else changed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sebframe.core.session.text import client_text


@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_any_text_becomes_storable(value: str) -> None:
    cleaned = client_text(value)
    cleaned.encode("utf-8")  # raises for a lone surrogate
    assert "\x00" not in cleaned


@given(st.text(st.characters(codec="utf-8", exclude_characters="\x00")))
def test_storable_text_is_left_alone(value: str) -> None:
    assert client_text(value) is value


def test_surrogates_and_nul() -> None:
    assert client_text("x\ud800") == "x\ufffd"
    assert client_text("\udc00a\ud800") == "\ufffda\ufffd"
    assert client_text("\ud83d\ude00") == "\U0001f600"  # a proper pair is its character
    assert client_text("a\x00b") == "ab"
    assert client_text("é\x00\ud800") == "é\ufffd"
