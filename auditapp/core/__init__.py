"""Domain model and persistence; no Qt, no network."""
