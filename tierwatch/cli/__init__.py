"""The `tierwatch` command line: the group (main.py), the options every command shares
(options.py), library errors mapped to messages and exit codes (errors.py), the text
renderers and the `--fail-on` gate of the reports (render.py, gate.py), and one module per
command family under commands/."""
