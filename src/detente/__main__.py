"""``python -m detente`` runs the CLI."""

import sys

from detente.cli.app import main

sys.exit(main())
