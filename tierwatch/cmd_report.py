"""`tierwatch report`: placeholder until its issue lands."""

COMMANDS: list = []
