"""A problem found in the layers: where it is, what is wrong and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One problem in the layers, named by layer, feature and field.

    ``feature`` is the feature's id (its id field, or ``fid N`` when the layer
    has none or the id itself is missing); ``field`` is ``None`` for problems of a
    whole layer.

    Examples
    --------
    >>> str(Problem("clusters", "TB-07", "kind", "unknown value 'x'", "use general"))
    "error: clusters, feature TB-07, field kind: unknown value 'x'. What to do: use general"
    """

    layer: str
    feature: str | None
    field: str | None
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        """Whether the problem stops the layers from being used."""
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        where = [self.layer]
        if self.feature is not None:
            where.append(f"feature {self.feature}")
        if self.field is not None:
            where.append(f"field {self.field}")
        text = f"{self.severity.value}: {', '.join(where)}: {self.message}"
        return f"{text}. What to do: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, str | None]:
        """Return the problem as a JSON-ready mapping."""
        return {
            "severity": self.severity.value,
            "layer": self.layer,
            "feature": self.feature,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
        }
