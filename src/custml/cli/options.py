"""Command-line options read from settings classes: one option per :func:`custml.settings.option` field.

:func:`settings_command` turns a function of one settings object into a typer command whose options are the
settings' fields (flag from the field name or its declared flags, default and help from the field), plus
``--config FILE`` (an experiment file whose section of the same name is layered over the project parameters
file) and ``--set section.key=value``. Precedence: defaults < ``conf/parameters.yaml`` < ``--config`` <
options given on the command line and ``--set`` (:func:`custml.config.load_settings`).
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import typer
from pydantic.fields import FieldInfo

from custml.settings import Settings, cli_flags
from custml.types import JSONObject

__all__ = ["Layers", "argument", "cli_fields", "extra_option", "settings_command", "step_context"]

S = TypeVar("S", bound=Settings)

_GIVEN = {"COMMANDLINE", "ENVIRONMENT"}  # where an option's value came from when the user gave it


@dataclass(frozen=True)
class Layers:
    """The settings layers a command was given: its ``--config`` file and ``--set`` overrides by section."""

    config: Path | None = None
    overrides: dict[str, JSONObject] = field(default_factory=dict)

    def section(self, name: str) -> JSONObject:
        return dict(self.overrides.get(name, {}))


def cli_fields(model: type[Settings]) -> dict[str, FieldInfo]:
    """The fields of ``model`` that are command-line options (declared with :func:`custml.settings.option`)."""
    return {
        name: f
        for name, f in model.model_fields.items()
        if isinstance(f.json_schema_extra, dict) and "cli" in f.json_schema_extra
    }


def _option_type(annotation: object) -> type:
    """The type typer parses: ``X | None`` -> X, a ``Literal`` -> its values' type."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and args:
        return _option_type(args[0])
    if origin is typing.Literal:
        return type(args[0])
    return annotation if isinstance(annotation, type) else str


def _parameter(name: str, model: type[Settings], f: FieldInfo) -> inspect.Parameter:
    flags = cli_flags(model, name)
    kind = _option_type(f.annotation)
    limits = {
        key: getattr(meta, attr)
        for meta in f.metadata
        for attr, key in (("ge", "min"), ("le", "max"))
        if getattr(meta, attr, None) is not None
    }
    decls: tuple[str, ...] = flags
    if kind is bool:
        decls = (f"{flags[0]}/--no-{flags[0].removeprefix('--')}", *flags[1:])
    default = None if f.is_required() else f.default
    info = typer.Option(*decls, help=f.description, min=limits.get("min"), max=limits.get("max"))
    annotation = cast(Any, Annotated)[kind if default is not None else kind | None, info]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def _layer_parameters(section: str | None) -> list[inspect.Parameter]:
    what = f"its '{section}:' section" if section else "its sections"
    return [
        inspect.Parameter(
            "config",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                Path | None,
                typer.Option("--config", help=f"Experiment YAML ({what} over conf/parameters.yaml)."),
            ],
        ),
        inspect.Parameter(
            "set_",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                list[str] | None,
                typer.Option("--set", help="Override a setting: section.key=value (repeatable)."),
            ],
        ),
    ]


def settings_command(
    model: type[S],
    section: str | None,
    extra: Sequence[inspect.Parameter] = (),
    *,
    others: Sequence[str] = (),
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorate ``func(settings, layers, **extra)`` into a typer command with ``model``'s options.

    ``section`` is the parameters-file section ``model`` is loaded from (``None``: the command line only);
    ``extra`` are further typer parameters (arguments such as a task) passed to ``func`` by name; ``others``
    are the further sections the command reads from ``layers`` (a ``--set`` of any other section is an error).
    """
    from custml.config import load_settings, parse_overrides, validate_params

    fields = cli_fields(model)

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(func)
        def command(ctx: typer.Context, **kwargs: Any) -> None:
            given = {
                n: kwargs[n] for n in fields if getattr(ctx.get_parameter_source(n), "name", "") in _GIVEN
            }
            layers = Layers(
                kwargs.get("config"), parse_overrides(kwargs.get("set_") or [], section, others=others)
            )
            own = {**layers.section(section), **given} if section else given
            if section:
                settings = load_settings(model, section, experiment=layers.config, overrides=own)
            else:
                settings = validate_params(own, model, "command line")
            func(settings, layers, **{p.name: kwargs[p.name] for p in extra})

        context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
        options = [_parameter(n, model, f) for n, f in fields.items()]
        params = [context, *extra, *options, *_layer_parameters(section)]
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__  # typer reads the signature above, not the wrapped function's
        return command

    return decorate


def argument(name: str, help: str, kind: type = str) -> inspect.Parameter:
    """A positional argument of a settings command (``custml train TASK``)."""
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[kind, typer.Argument(help=help)]
    )


def extra_option(name: str, default: object, kind: object, *decls: str, help: str) -> inspect.Parameter:
    """A command option that is not a setting (``--root`` of ``custml demo``)."""
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[kind, typer.Option(*decls, help=help)],
    )


def step_context(say: Callable[[str], None] | None = None) -> Any:
    """A :class:`custml.pipeline.StepContext` for this project (the command's steps share it)."""
    from custml.pipeline import StepContext

    return StepContext.for_paths(say=say)
