"""`tierwatch ingest`: placeholder until its issue lands."""

COMMANDS: list = []
