"""One module per command family; each lists its click commands in COMMANDS."""
