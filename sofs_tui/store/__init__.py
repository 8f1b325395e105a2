"""The local case store: encrypted SQLite (SQLCipher), key wrapping, and units of work."""
