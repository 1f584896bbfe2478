"""`tierwatch dashboard`: placeholder until its issue lands."""

COMMANDS: list = []
