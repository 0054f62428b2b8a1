"""``config set|get|unset|list|path``: shuttle's own settings file. The token is never shown."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from loom.errors import InvalidArgument
from loom.shuttle import profile
from loom.shuttle.context import State, state

config_app = typer.Typer(
    help="Shuttle's settings (api-url, token, project). Environment and flags override the file.",
    no_args_is_help=True,
)

KeyArg = Annotated[str, typer.Argument(metavar="KEY", help="api-url, token or project")]


def _key(key: str) -> str:
    if key not in profile.KEYS:
        raise InvalidArgument(f"unknown key {key!r}; keys are {', '.join(profile.KEYS)}", field="KEY")
    return key


def _shown(key: str, value: str | None) -> str | None:
    return profile.mask(value) if key in profile.SECRET_KEYS else value


def _entry(st: State, key: str) -> dict[str, Any]:
    setting = st.profile.get(key)
    return {"key": key, "value": _shown(key, setting.value), "source": setting.source}


@config_app.command("set")
def set_value(
    ctx: typer.Context,
    key: KeyArg,
    value: Annotated[str, typer.Argument(metavar="VALUE", help="the value; '-' reads it from stdin")],
) -> None:
    """Save a setting in the config file ('-' reads the value from stdin, for tokens).

    Example: shuttle config set api-url http://127.0.0.1:8765
    """
    st = state(ctx)
    key = _key(key)
    if value == "-":
        value = sys.stdin.readline().strip()
    value = profile.validate_value(key, value)
    path = profile.config_path()
    try:
        values = profile.read_file(path)
    except InvalidArgument:
        values = {}  # a broken file is replaced by a good one rather than blocking the repair
    values[key] = value
    profile.write_file(path, values)
    if st.out.json_mode:
        st.out.json({"key": key, "value": _shown(key, value), "path": str(path)})
    else:
        st.out.success(f"Set {key} = {_shown(key, value)} in {path}")


@config_app.command("unset")
def unset_value(ctx: typer.Context, key: KeyArg) -> None:
    """Remove a setting from the config file.

    Example: shuttle config unset token
    """
    st = state(ctx)
    key = _key(key)
    path = profile.config_path()
    values = profile.read_file(path)
    removed = values.pop(key, None) is not None
    if removed:
        profile.write_file(path, values)
    if st.out.json_mode:
        st.out.json({"key": key, "removed": removed, "path": str(path)})
    else:
        st.out.success(f"Removed {key} from {path}" if removed else f"{key} was not set in {path}")


@config_app.command("get")
def get_value(ctx: typer.Context, key: KeyArg) -> None:
    """Print the value in effect and where it comes from (flag, env, file, default).

    Example: shuttle config get project
    """
    st = state(ctx)
    entry = _entry(st, _key(key))
    if st.out.json_mode:
        st.out.json(entry)
    else:
        st.out.console.print(
            f"{entry['value'] if entry['value'] is not None else '(not set)'}  ({entry['source']})"
        )


@config_app.command("list")
def list_values(ctx: typer.Context) -> None:
    """Print every setting in effect with its source.

    Example: shuttle config list
    """
    st = state(ctx)
    entries = [_entry(st, key) for key in profile.KEYS]
    if st.out.json_mode:
        st.out.json({"path": str(st.profile.path), "settings": entries})
        return
    rows = [(e["key"], e["value"] if e["value"] is not None else "(not set)", e["source"]) for e in entries]
    st.out.table(("KEY", "VALUE", "SOURCE"), rows, empty="")
    st.out.info(f"file: {st.profile.path}")


@config_app.command("path")
def show_path(ctx: typer.Context) -> None:
    """Print where the config file is (it may not exist yet).

    Example: shuttle config path
    """
    st = state(ctx)
    path = profile.config_path()
    if st.out.json_mode:
        st.out.json({"path": str(path), "exists": path.is_file()})
    else:
        st.out.console.print(str(path))


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
