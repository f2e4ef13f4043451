"""An item's figures, as a datasheet gives them, and the metrics the rules compare.

- **TPP** ("total processing performance", EAR 3A090 Technical Note): 2 × MacTOPS × the bit
  length of the operation, aggregated over all processing units, at the bit length that gives
  the highest value, from *dense* (not sparse) rates. A datasheet's TOPS/TFLOPS already count a
  multiply-accumulate as 2 operations, so TPP = datasheet dense TOPS × bits (600 TOPS at 8 bits =
  300 TFLOPS at 16 bits = 4800).
- **performance density** = TPP / applicable die area (mm²): every logic die made on a
  non-planar (FinFET/GAA) process, I/O dies included; HBM/DRAM dies excluded.
- **HBM bandwidth density** = a stack's (or package's) bandwidth in GB/s / its area in mm².

Impossible values (a negative or zero area, a zero or negative bit length, negative TOPS, NaN)
are refused with :class:`~detente.errors.MalformedRecord` naming the figure and the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from detente.errors import MalformedRecord
from detente.exportctl.rules import ItemKind, Parameter

__all__ = ["DenseRate", "Item", "ItemKind", "parse_dense_rate"]

_RATE = re.compile(
    r"^\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*@\s*(?:INT|FP|BF|TF)?([+-]?[0-9]{1,4})\s*$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class DenseRate:
    """A dense peak rate: ``tops`` (datasheet TOPS/TFLOPS, no sparsity) at ``bits`` bit length."""

    tops: float
    bits: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "tops", _number(self.tops, "dense TOPS", minimum=0.0, allow_zero=True))
        if isinstance(self.bits, bool) or not isinstance(self.bits, int):
            raise MalformedRecord(
                f"bit length {self.bits!r} is not a whole number", hint="bit lengths are 4, 8, 16, 32 or 64"
            )
        if self.bits <= 0:
            raise MalformedRecord(
                f"bit length {self.bits} is impossible: a bit length is at least 1",
                hint="give the operand width of the multiply, e.g. 8 for INT8/FP8, 16 for FP16/BF16",
            )
        if self.bits > 512:
            raise MalformedRecord(f"bit length {self.bits} is implausible (over 512)", hint="e.g. 8, 16, 32, 64")

    @property
    def tpp(self) -> float:
        return self.tops * self.bits

    def __str__(self) -> str:
        return f"{_fmt(self.tops)}@{self.bits}"


def parse_dense_rate(text: str) -> DenseRate:
    """Parse ``VALUE@BITS`` (``1979@8``, ``989.5@FP16``); raise :class:`MalformedRecord` otherwise."""
    match = _RATE.match(text) if isinstance(text, str) else None
    if match is None:
        raise MalformedRecord(
            f"{text!r} is not VALUE@BITS",
            hint="a dense peak rate and its bit length, e.g. --dense-tops 1979@8 or --dense-tops 989.5@16",
        )
    try:
        tops = float(match.group(1))
    except ValueError:  # pragma: no cover - the pattern admits only decimal numbers
        raise MalformedRecord(f"{text!r}: {match.group(1)!r} is not a number") from None
    return DenseRate(tops, int(match.group(2)))


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else f"{value:.4g}"


def _number(value: object, what: str, *, minimum: float = 0.0, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedRecord(f"{what} {value!r} is not a number")
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise MalformedRecord(f"{what} must be a finite number, not {value!r}")
    if number < minimum or (number == minimum and not allow_zero):
        reason = "cannot be negative" if number < 0 else "must be greater than zero"
        raise MalformedRecord(f"{what} {_fmt(number)} is impossible: it {reason}", hint=_HINTS.get(what))
    return number


_HINTS = {
    "applicable die area": "the area in mm² of every logic die on a FinFET/GAA process (HBM/DRAM dies excluded)",
    "HBM area": "the footprint of the HBM stack or package in mm²",
    "dense TOPS": "the datasheet's dense (not sparse) peak rate in TOPS or TFLOPS",
}


@dataclass(frozen=True)
class Item:
    """The figures of one item. Every figure is optional; a clause that needs a missing figure
    says so in the classification. ``kind`` defaults from the figures given: technology tags →
    ``technology``; dense rates → ``integrated-circuit``; HBM figures only → ``memory``; training
    operations or a weights flag only → ``model-weights``."""

    name: str
    dense: tuple[DenseRate, ...] = ()
    die_area_mm2: float | None = None
    hbm_bandwidth_gbps: float | None = None
    hbm_area_mm2: float | None = None
    dram_bandwidth_gbps: float | None = None
    datacenter: bool | None = None
    io_bandwidth_gbps: float | None = None
    training_ops: float | None = None
    weights_published: bool | None = None
    technology: tuple[str, ...] = ()
    kind: ItemKind | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)
    unverified: tuple[tuple[str, str, str], ...] = field(default=(), compare=False)
    """(figure, fact, reason) for each catalogue figure not verified against a primary source."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise MalformedRecord("an item needs a name", hint="e.g. the product name on the datasheet")
        rates = tuple(_rate(r) for r in self.dense)
        object.__setattr__(self, "dense", rates)
        for attr, what, zero_ok in (
            ("die_area_mm2", "applicable die area", False),
            ("hbm_bandwidth_gbps", "HBM bandwidth", True),
            ("hbm_area_mm2", "HBM area", False),
            ("dram_bandwidth_gbps", "total DRAM bandwidth", True),
            ("io_bandwidth_gbps", "aggregate bidirectional I/O bandwidth", True),
            ("training_ops", "training operations", True),
        ):
            value = getattr(self, attr)
            if value is not None:
                object.__setattr__(self, attr, _number(value, what, allow_zero=zero_ok))
        for attr in ("datacenter", "weights_published"):
            value = getattr(self, attr)
            if value is not None and not isinstance(value, bool):
                raise MalformedRecord(f"{attr.replace('_', ' ')} must be true, false or unknown, not {value!r}")
        if isinstance(self.technology, str) or not all(isinstance(t, str) and t for t in self.technology):
            raise MalformedRecord("technology tags must be a list of non-empty strings")
        object.__setattr__(self, "technology", tuple(self.technology))
        object.__setattr__(self, "kind", self._resolve_kind())

    def _resolve_kind(self) -> ItemKind:
        if self.kind is not None:
            try:
                return ItemKind(self.kind)
            except ValueError:
                kinds = ", ".join(k.value for k in ItemKind)
                raise MalformedRecord(f"unknown item kind {self.kind!r}", hint=f"one of {kinds}") from None
        if self.technology:
            return ItemKind.TECHNOLOGY
        if self.dense or self.die_area_mm2 is not None:
            return ItemKind.INTEGRATED_CIRCUIT
        if self.hbm_bandwidth_gbps is not None or self.hbm_area_mm2 is not None:
            return ItemKind.MEMORY
        if self.training_ops is not None or self.weights_published is not None:
            return ItemKind.MODEL_WEIGHTS
        if self.dram_bandwidth_gbps is not None or self.io_bandwidth_gbps is not None or self.datacenter is not None:
            return ItemKind.INTEGRATED_CIRCUIT
        raise MalformedRecord(
            f"item {self.name!r} has no figures to classify",
            hint=(
                "give at least the dense peak rates (--dense-tops VALUE@BITS), HBM figures (--hbm-bandwidth with "
                "--hbm-area), training operations (--training-ops) or technology tags (--technology)"
            ),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Item:
        """Build an item from JSON-shaped data (``dense`` as ``[[tops, bits], …]`` or ``VALUE@BITS``)."""
        if not isinstance(data, Mapping):
            raise MalformedRecord("an item is a JSON object")
        known = {f for f in cls.__dataclass_fields__ if f != "notes"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MalformedRecord(f"unknown item field {unknown[0]!r}", hint=f"fields: {', '.join(sorted(known))}")
        values = dict(data)
        values["dense"] = tuple(values.get("dense", ()))
        values["technology"] = tuple(values.get("technology", ()))
        return cls(**values)

    # --- derived metrics ------------------------------------------------------------------

    @property
    def best_rate(self) -> DenseRate | None:
        """The rate that gives the highest TPP (the first such when two tie)."""
        best: DenseRate | None = None
        for rate in self.dense:
            if best is None or rate.tpp > best.tpp:
                best = rate
        return best

    @property
    def tpp(self) -> float | None:
        best = self.best_rate
        return None if best is None else best.tpp

    @property
    def performance_density(self) -> float | None:
        tpp = self.tpp
        if tpp is None or self.die_area_mm2 is None:
            return None
        return tpp / self.die_area_mm2

    @property
    def hbm_bandwidth_density(self) -> float | None:
        if self.hbm_bandwidth_gbps is None or self.hbm_area_mm2 is None:
            return None
        return self.hbm_bandwidth_gbps / self.hbm_area_mm2

    def figure(self, parameter: Parameter) -> float | bool | tuple[str, ...] | None:
        """The value a condition compares for ``parameter`` (``None`` when a figure is missing)."""
        match parameter:
            case Parameter.TPP:
                return self.tpp
            case Parameter.PERFORMANCE_DENSITY:
                return self.performance_density
            case Parameter.HBM_BANDWIDTH_DENSITY:
                return self.hbm_bandwidth_density
            case Parameter.DRAM_BANDWIDTH:
                return self.dram_bandwidth_gbps
            case Parameter.IO_BANDWIDTH:
                return self.io_bandwidth_gbps
            case Parameter.DATACENTER:
                return self.datacenter
            case Parameter.TRAINING_OPS:
                return self.training_ops
            case Parameter.WEIGHTS_PUBLISHED:
                return self.weights_published
            case Parameter.TECHNOLOGY:
                return self.technology if self.kind == ItemKind.TECHNOLOGY else None
        raise AssertionError(parameter)  # pragma: no cover - every Parameter is handled above

    def with_figures(self, **figures: Any) -> Item:
        """This item with ``figures`` replaced (a user's figures over a catalogue entry's); the
        unverified marks of the replaced figures go with them."""
        kept = tuple(u for u in self.unverified if u[0] not in figures)
        return replace(self, **figures, unverified=kept)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "kind": str(self.kind)}
        if self.dense:
            out["dense"] = [{"tops": r.tops, "bits": r.bits} for r in self.dense]
        for attr in (
            "die_area_mm2",
            "hbm_bandwidth_gbps",
            "hbm_area_mm2",
            "dram_bandwidth_gbps",
            "datacenter",
            "io_bandwidth_gbps",
            "training_ops",
            "weights_published",
        ):
            value = getattr(self, attr)
            if value is not None:
                out[attr] = value
        if self.technology:
            out["technology"] = list(self.technology)
        return out


def _rate(value: object) -> DenseRate:
    if isinstance(value, DenseRate):
        return value
    if isinstance(value, str):
        return parse_dense_rate(value)
    if isinstance(value, Mapping) and set(value) == {"tops", "bits"}:
        return DenseRate(value["tops"], value["bits"])
    if isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        pair = tuple(value)
        if len(pair) == 2:
            return DenseRate(pair[0], pair[1])
    raise MalformedRecord(f"{value!r} is not a dense rate", hint="a (TOPS, bits) pair, e.g. (1979, 8), or '1979@8'")
