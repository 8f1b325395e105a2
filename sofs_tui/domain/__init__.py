"""Pure practice rules: the mapping, scaling, conferences, deadlines and text safety.

Nothing here does I/O or imports Textual, SQL or HTTP, so every rule is fast to test.
"""
