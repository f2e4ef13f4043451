"""Private helpers. Nothing here is API."""
