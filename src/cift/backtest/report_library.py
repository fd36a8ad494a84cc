"""plotly.js for the tearsheets: written once into a folder the reports load it from by
a relative path, or put inline for a report served or kept on its own.

Apart from :mod:`cift.backtest.tearsheet` so that serving a finished report does not
load the engine and analysis that write one."""

from __future__ import annotations

import re
from pathlib import Path

import plotly
import plotly.offline

from cift.core.files import write_text_atomic

PLOTLY_JS = f"plotly-{plotly.__version__}.min.js"
SCRIPT_TAG = re.compile(r'<script charset="utf-8" src="([^"]*plotly-[^"/]+\.min\.js)"></script>')


def library_file(folder: Path) -> Path:
    """``folder``'s copy of plotly.js, written if missing."""
    target = folder / PLOTLY_JS
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, plotly.offline.get_plotlyjs())
    return target


def standalone(path: Path) -> str:
    """The report at ``path`` with plotly.js inline, to serve or keep as one file."""
    page = path.read_text()
    found = SCRIPT_TAG.search(page)
    if not found:
        return page
    library = path.parent / found.group(1)
    code = library.read_text() if library.is_file() else plotly.offline.get_plotlyjs()
    inline = f'<script type="text/javascript">{code}</script>'
    return page[: found.start()] + inline + page[found.end() :]
