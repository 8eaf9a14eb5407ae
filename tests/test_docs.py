"""The docs show the real ``--help`` texts (as rendered 100 columns wide): a changed option must reach the docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    (): "README.md",
    ("discover",): "docs/discover.md",
    ("segment",): "docs/discover.md",
    ("score",): "docs/discover.md",
    ("apriori",): "docs/apriori.md",
    ("parse",): "docs/parse.md",
    ("pretrain",): "docs/pretrain.md",
}


@pytest.mark.parametrize("command", list(PAGES), ids=lambda c: " ".join(c) or "mintext")
def test_docs_show_the_current_help(command):
    # click renders help 2 columns narrower than the terminal: width 98 is what COLUMNS=100 shows
    result = CliRunner().invoke(cli, [*command, "--help"], prog_name="mintext", terminal_width=98)
    assert result.exit_code == 0
    page = (ROOT / PAGES[command]).read_text(encoding="utf-8")
    shown = " ".join(("$ mintext", *command, "--help"))
    assert shown in page, f"{PAGES[command]} does not show `{shown}`"
    block = page[page.index(shown) + len(shown):].split("```", 1)[0].strip("\n")
    assert block == result.output.rstrip("\n"), (
        f"{PAGES[command]}: the `{shown}` block differs from the current help; paste the output of "
        f"`COLUMNS=100 {shown[2:]}`")
