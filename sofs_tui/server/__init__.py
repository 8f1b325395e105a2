"""The central service (`sofs serve`): auth, scope, and the sync endpoints over one database.

Imports only `sofs_tui.domain` and `sofs_tui.sync.protocol`/`sync.entities` of ours, never the
client's store or screens (tests/test_architecture.py).
"""
