"""Server settings as the VS Code client sends them (vscode-client/src/settings.ts), validated.

A bad field never stops the server: it falls back to its default and the
problem is named, so the user sees which setting to fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from paddleport.rules.model import Tier

SEVERITIES = ("error", "warning", "information", "hint", "off")
RUN_MODES = ("onType", "onSave")
DEFAULT_SEVERITY: dict[str, str] = {
    "exact": "warning",
    "review": "warning",
    "manual": "information",
}


@dataclass(frozen=True)
class Settings:
    enable: bool = True
    run: str = "onType"  # "onSave": diagnostics on open and save only
    severity: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))
    rule_severity: dict[str, str] = field(default_factory=dict)
    extra_rule_folders: tuple[str, ...] = ()
    annotate: bool = False
    kernel_interpreter: str = ""
    rtol: float = 1e-5
    atol: float = 1e-6
    timeout: float = 60.0
    equivalence_enabled: bool = True
    debounce_ms: float = 30.0  # wait after a change before analysing (not in the VS Code UI)

    def severity_for(self, rule_id: str, tier: Tier) -> str:
        return self.rule_severity.get(rule_id) or self.severity.get(tier.value, "warning")

    def as_dict(self) -> dict[str, Any]:
        """The client's camelCase shape, for debug info."""
        return {
            "enable": self.enable,
            "run": self.run,
            "severity": dict(self.severity),
            "ruleSeverity": dict(self.rule_severity),
            "extraRuleFolders": list(self.extra_rule_folders),
            "annotate": self.annotate,
            "kernelInterpreter": self.kernel_interpreter,
            "equivalence": {"rtol": self.rtol, "atol": self.atol, "timeout": self.timeout},
            "equivalenceEnabled": self.equivalence_enabled,
            "debounceMs": self.debounce_ms,
        }


# Ranges a setting may take: past them a typo (debounceMs: 1e9) would make the server look dead.
MAX_DEBOUNCE_MS = 10_000
MAX_TIMEOUT_S = 3_600


def unwrap(options: object) -> object:
    """Accept ``{paddleport: {...}}``, ``{settings: {paddleport: {...}}}`` or the object itself."""
    if isinstance(options, Mapping):
        if isinstance(options.get("settings"), Mapping):
            options = options["settings"]
        if isinstance(options, Mapping) and isinstance(options.get("paddleport"), Mapping):
            return options["paddleport"]
    return options


def parse_settings(options: object) -> tuple[Settings, list[str]]:
    """Settings from a client object, and one message per ignored field (``paddleport.x: why``)."""
    defaults = Settings()
    raw = unwrap(options)
    if raw is None:
        return defaults, []
    if not isinstance(raw, Mapping):
        return defaults, [f"paddleport: expected an object, got {type(raw).__name__}"]
    problems: list[str] = []

    def bad(name: str, why: str) -> None:
        problems.append(f"paddleport.{name}: {why}; using the default")

    def boolean(name: str, default: bool) -> bool:
        value = raw.get(name, default)
        if isinstance(value, bool):
            return value
        bad(name, f"expected true or false, got {value!r}")
        return default

    def number(name: str, value: object, default: float, *, positive: bool = False,
               most: float = math.inf) -> float:  # fmt: skip
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            if math.isfinite(number) and 0 <= number <= most and not (positive and number == 0):
                return number
        limit = "" if most == math.inf else f" up to {most:g}"
        bad(name, f"expected a {'positive' if positive else 'non-negative'} number{limit}, got {value!r}")
        return default

    run = raw.get("run", defaults.run)
    if run not in RUN_MODES:
        bad("run", f"expected one of {', '.join(RUN_MODES)}, got {run!r}")
        run = defaults.run

    severity = dict(DEFAULT_SEVERITY)
    given = raw.get("severity", {})
    if isinstance(given, Mapping):
        for tier, value in given.items():
            if tier not in DEFAULT_SEVERITY:
                bad(f"severity.{tier}", "unknown tier (exact, review, manual)")
            elif value not in SEVERITIES:
                bad(f"severity.{tier}", f"expected one of {', '.join(SEVERITIES)}, got {value!r}")
            else:
                severity[tier] = value
    else:
        bad("severity", f"expected an object, got {given!r}")

    rule_severity: dict[str, str] = {}
    given = raw.get("ruleSeverity", {})
    if isinstance(given, Mapping):
        for rule, value in given.items():
            if value in SEVERITIES and isinstance(rule, str) and rule.strip():
                rule_severity[rule.strip()] = value
            else:
                bad(
                    f"ruleSeverity.{rule}",
                    f"expected one of {', '.join(SEVERITIES)}, got {value!r}",
                )
    else:
        bad("ruleSeverity", f"expected an object, got {given!r}")

    folders: tuple[str, ...] = ()
    given = raw.get("extraRuleFolders", [])
    if isinstance(given, str):
        given = [given]
    if isinstance(given, list) and all(isinstance(f, str) for f in given):
        folders = tuple(f for f in given if f.strip())
    else:
        bad("extraRuleFolders", f"expected a list of folder paths, got {given!r}")

    interpreter = raw.get("kernelInterpreter", "")
    if not isinstance(interpreter, str):
        bad("kernelInterpreter", f"expected a path, got {interpreter!r}")
        interpreter = ""

    equivalence = raw.get("equivalence", {})
    if not isinstance(equivalence, Mapping):
        bad("equivalence", f"expected an object, got {equivalence!r}")
        equivalence = {}
    rtol = number("equivalence.rtol", equivalence.get("rtol", defaults.rtol), defaults.rtol, most=1)
    atol = number("equivalence.atol", equivalence.get("atol", defaults.atol), defaults.atol, most=1e6)
    timeout = number(
        "equivalence.timeout",
        equivalence.get("timeout", defaults.timeout),
        defaults.timeout,
        positive=True,
        most=MAX_TIMEOUT_S,
    )
    debounce = number("debounceMs", raw.get("debounceMs", defaults.debounce_ms), defaults.debounce_ms,
                      most=MAX_DEBOUNCE_MS)  # fmt: skip

    settings = Settings(
        enable=boolean("enable", defaults.enable),
        run=run,
        severity=severity,
        rule_severity=rule_severity,
        extra_rule_folders=folders,
        annotate=boolean("annotate", defaults.annotate),
        kernel_interpreter=interpreter.strip(),
        rtol=rtol,
        atol=atol,
        timeout=timeout,
        equivalence_enabled=boolean("equivalenceEnabled", defaults.equivalence_enabled),
        debounce_ms=debounce,
    )
    return settings, problems
