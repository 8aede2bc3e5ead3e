"""The one base class of every settings object in custml, and the ``option`` field that a command line reads.

Every ``*Params``/``*Settings`` class derives from :class:`Settings`: unknown keys are errors (a typo in a YAML
file cannot pass silently). Classes that must not change once built add ``frozen=True`` to their own config.
Layered loading (defaults < project parameters file < experiment file < command line) is
:func:`custml.config.load_settings`; :func:`option` is a pydantic field whose description is the command-line
help and whose extra flags (``-n``, ``--id``) the CLI declares beside the one derived from the field name.

Examples
--------
>>> class Demo(Settings):
...     customers: int = option(1000, "Number of real persons.", "-n", ge=1)
>>> Demo().customers, Demo.model_fields["customers"].description
(1000, 'Number of real persons.')
>>> cli_flags(Demo, "customers")
('--customers', '-n')
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Settings", "cli_flags", "option"]


class Settings(BaseModel):
    """Base of every settings class: extra keys forbidden (a typo is an error that names the key)."""

    model_config = ConfigDict(extra="forbid")


def option(default: Any, description: str, *flags: str, **constraints: Any) -> Any:
    """A settings field that is also a command-line option: ``description`` is its help, ``flags`` its names.

    ``flags`` replace the name derived from the field (``max_explained`` -> ``--max-explained``) when one of
    them starts with ``--``; short flags (``-n``) are added to it. ``constraints`` are pydantic's (``ge``...).
    """
    return Field(default, description=description, json_schema_extra={"cli": list(flags)}, **constraints)


def cli_flags(model: type[BaseModel], name: str) -> tuple[str, ...]:
    """The command-line flags of field ``name`` of ``model``: its long flag first, then any short ones."""
    extra = model.model_fields[name].json_schema_extra
    flags = [str(f) for f in (extra.get("cli", []) if isinstance(extra, dict) else [])]  # type: ignore[union-attr]
    long = [f for f in flags if f.startswith("--")] or ["--" + name.replace("_", "-")]
    return (*long, *(f for f in flags if not f.startswith("--")))
