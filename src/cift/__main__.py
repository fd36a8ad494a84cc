"""``python -m cift`` runs the command-line interface."""

from cift.cli.app import main

main()
