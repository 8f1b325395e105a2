"""Our own themes: a high-contrast dark one and a high-contrast light one.

Textual 8.2.8 ships no high-contrast theme. These keep every colour at full strength against a
black (or white) background, so states stay readable on poor screens and in bright rooms; the
states are also always shown in words or symbols, never colour alone.
"""

from __future__ import annotations

from textual.theme import Theme

HIGH_CONTRAST = "sofs-high-contrast"
HIGH_CONTRAST_LIGHT = "sofs-high-contrast-light"
DEFAULT_THEME = "textual-dark"

SOFS_THEMES: tuple[Theme, ...] = (
    Theme(
        name=HIGH_CONTRAST,
        primary="#FFFF00",
        secondary="#00FFFF",
        accent="#FF00FF",
        warning="#FFAA00",
        error="#FF5555",
        success="#00FF00",
        foreground="#FFFFFF",
        background="#000000",
        surface="#000000",
        panel="#1A1A1A",
        boost="#FFFFFF",
        dark=True,
        luminosity_spread=0.3,
        text_alpha=1.0,
        variables={
            "text-muted": "#FFFFFF",
            "border": "#FFFFFF",
            "footer-key-foreground": "#FFFF00",
            "input-selection-background": "#FFFF00 60%",
        },
    ),
    Theme(
        name=HIGH_CONTRAST_LIGHT,
        primary="#0000AA",
        secondary="#005050",
        accent="#800080",
        warning="#7A3E00",
        error="#B00000",
        success="#005C00",
        foreground="#000000",
        background="#FFFFFF",
        surface="#FFFFFF",
        panel="#E6E6E6",
        boost="#000000",
        dark=False,
        luminosity_spread=0.3,
        text_alpha=1.0,
        variables={
            "text-muted": "#000000",
            "border": "#000000",
            "footer-key-foreground": "#0000AA",
        },
    ),
)

HIGH_CONTRAST_THEMES = frozenset({HIGH_CONTRAST, HIGH_CONTRAST_LIGHT})
