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
    message_vi: str = ""
    hint_vi: str = ""

    @property
    def is_error(self) -> bool:
        """Whether the problem stops the layers from being used."""
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        return self.render("en")

    def render(self, lang: str = "vi") -> str:
        """Return the problem as one line in ``lang`` (``vi`` or ``en``)."""
        vi = lang == "vi" and bool(self.message_vi)
        where = [self.layer]
        if self.feature is not None:
            where.append(f"{'đối tượng' if vi else 'feature'} {self.feature}")
        if self.field is not None:
            where.append(f"{'trường' if vi else 'field'} {self.field}")
        severity = {"error": "lỗi", "warning": "cảnh báo"}[self.severity.value] if vi else \
            self.severity.value
        message = self.message_vi if vi else self.message
        hint = (self.hint_vi or self.hint) if vi else self.hint
        text = f"{severity}: {', '.join(where)}: {message}"
        return f"{text}. {'Cách sửa' if vi else 'What to do'}: {hint}" if hint else text

    def to_dict(self) -> dict[str, str | None]:
        """Return the problem as a JSON-ready mapping."""
        return {
            "severity": self.severity.value,
            "layer": self.layer,
            "feature": self.feature,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
            "message_vi": self.message_vi or self.message,
            "hint_vi": self.hint_vi or self.hint,
        }
