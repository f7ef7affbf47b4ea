"""The `shoplake` command's composition root: each layer owns its commands, this assembles them."""
