"""`tierwatch sample`: placeholder until its issue lands."""

COMMANDS: list = []
