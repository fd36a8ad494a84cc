#!/usr/bin/env python3
"""Install Debian's Chromium for the dashboard's end-to-end tests when it is missing.

    python deploy/local/browser.py

As root, or through ``sudo -n``; without either it says what to run and exits 1.
"""

from __future__ import annotations

import shutil
import sys

from servers.base import ServiceError, apt_install


def main() -> int:
    try:
        apt_install(["chromium"], "chromium")
    except ServiceError as exc:
        print(f"chromium: {exc}", file=sys.stderr)
        return 1
    print(f"chromium  {shutil.which('chromium')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
