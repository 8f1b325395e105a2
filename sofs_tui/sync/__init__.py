"""Sync: the protocol shared with the service, and the client engine (see SYNC.md)."""
