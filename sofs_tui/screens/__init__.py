"""One Textual screen per module; each screen owns its workers."""
