"""AppTest of the app shell: navigation runs the playground, the sidebar switches language and keeps it."""

from __future__ import annotations

import pytest

from core.i18n import STRINGS
from tests.conftest import open_page


@pytest.mark.apptest
def test_shell_serves_the_playground_and_switches_language():
    at = open_page("app.py")
    assert at.title[0].value == "Tensor Playground"
    assert at.sidebar.selectbox(key="w_device").value == "cpu"
    assert at.sidebar.radio(key="w_lang").value == "en"
    # (AppTest re-sends a selectbox by its English label after a language switch, so the switch itself and
    # a click after it are covered by tests/e2e/test_playground_e2e.py in a real browser.)
    at.session_state["lang"] = "zh"
    at.run()
    assert at.title[0].value == "张量游乐场"
    assert at.sidebar.radio(key="w_lang").value == "zh"  # the picker shows the kept language


def test_every_string_has_both_languages():
    assert len(STRINGS) >= 300
    for key, entry in STRINGS.items():
        assert entry.get("en") and entry.get("zh"), key
