"""``python -m graphfraud`` runs the command line."""

from graphfraud.cli import main

main()
