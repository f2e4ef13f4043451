"""The shared AI incident database: staged reports, classifications, links, search, clocks."""
