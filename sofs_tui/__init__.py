"""sofs-tui: Signs of Safety practice in the terminal, offline and encrypted."""

__version__ = "0.1.0"
