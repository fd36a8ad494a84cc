"""Print the API's OpenAPI document (``python -m cift.api.document``): the dashboard's
TypeScript types are generated from it, so a change of the API shows up in its build."""

from __future__ import annotations

import json
import sys
import tempfile

from cift.api.app import create_app
from cift.core.settings import load_settings


def document() -> dict[str, object]:
    """The document of an app on throwaway settings (nothing is opened or written)."""
    with tempfile.TemporaryDirectory() as home:
        return create_app(load_settings(home=home)).openapi()


def main() -> None:
    sys.stdout.write(json.dumps(document(), indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
