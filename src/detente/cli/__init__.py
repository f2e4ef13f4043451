"""The ``detente`` command line (Typer + Rich)."""
