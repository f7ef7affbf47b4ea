"""The kernel's own commands: the local stack, the schema and the event contract.

`shoplake_cli` assembles them with every layer's commands into the `shoplake` command.
"""
