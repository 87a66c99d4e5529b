"""The benchmark's figures: one line each, `name: value unit`, and the percentile of a sample."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Figures:
    lines: list[tuple[str, object, str]]

    def add(self, name: str, value, unit: str = "") -> None:
        self.lines.append((name, value, unit))


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]
