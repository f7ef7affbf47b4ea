"""shoplake shared kernel: settings, event contract, lake registry, local stack, CLI."""
