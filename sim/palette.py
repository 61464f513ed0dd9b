"""Colours shared by the results figures and the classroom app: reds and oranges for Chinese
providers, blues for US ones, so a reader recognises a provider on every chart and map."""

from __future__ import annotations

PROVIDER_COLOURS = {"Huawei": "#c0392b", "Alibaba": "#f39c12", "AWS": "#1f4e9c",
                    "Microsoft": "#5dade2", "Google": "#27ae60", "Other": "#7d8f69"}
STATE_COLOURS = {"China": "#c0392b", "US": "#1f4e9c", "Others": "#7d8f69"}
OTHER_COLOURS = ("#8e44ad", "#16a085", "#7f8c8d", "#d35400")


def provider_colour(name: str, index: int = 0) -> str:
    """A provider's colour (a fixed palette for the usual ones, else a spare colour)."""
    return PROVIDER_COLOURS.get(name, OTHER_COLOURS[index % len(OTHER_COLOURS)])


def state_colour(name: str, index: int = 0) -> str:
    """A state's colour (China red, the US blue, else a spare colour)."""
    return STATE_COLOURS.get(name, OTHER_COLOURS[index % len(OTHER_COLOURS)])
