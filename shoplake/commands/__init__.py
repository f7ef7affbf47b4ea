"""The `shoplake` command, one module per group; shoplake.cli composes them."""
