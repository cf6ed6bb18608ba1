"""Named connection profiles: ``.env`` files in the configuration directory, one per cluster.

A profile is ``$EVOKAFKA_CONFIG_DIR/profiles/<name>.env`` (see :func:`tui.saved_views.config_dir`): the same
``KAFKA_*``, ``EVOKAFKA_*`` and ``EVOLUTION_*`` variables the loader (:mod:`tui.config`) reads from any ``.env``
file, so ``--profile staging`` is ``--env-file <config dir>/profiles/staging.env``. One more variable,
``EVOKAFKA_PRODUCTION=true``, marks a production cluster: the console shows it in a warning colour and opens it
read-only unless told otherwise.

Domain module: file reads only, no Textual, no aiokafka.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tui.config import ConfigError, read_env_file
from tui.saved_views import config_dir

PROFILES_FOLDER = "profiles"
PRODUCTION_VARIABLE = "EVOKAFKA_PRODUCTION"
"""``true`` (exactly, as every boolean of the integration) marks a production profile."""
SECRET_WORDS = ("PASSWORD", "KEY", "SECRET", "TOKEN")
"""A variable whose name holds one of these is masked when shown (``KAFKA_SSL_KEY`` is a path: masked too)."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MASK = "********"


class ProfileError(ValueError):
    """A profile that cannot be used; one line naming what is wrong."""


@dataclass(frozen=True, slots=True)
class Profile:
    """One named profile: where its file is and whether it is marked production."""

    name: str
    path: Path
    production: bool = False


def is_secret(variable: str) -> bool:
    """Whether ``variable``'s value is masked when shown."""
    upper = variable.upper()
    return any(word in upper for word in SECRET_WORDS)


def masked(values: Mapping[str, str], reveal: bool = False) -> dict[str, str]:
    """``values`` with every secret shown as ``********`` (empty stays empty) unless ``reveal``."""
    return {k: (MASK if v and is_secret(k) and not reveal else v) for k, v in values.items()}


class ProfileStore:
    """The profiles folder of the configuration directory."""

    def __init__(self, directory: Path | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.directory = directory if directory is not None else config_dir(environ) / PROFILES_FOLDER

    def path(self, name: str) -> Path:
        """The file of profile ``name`` (a :class:`ProfileError` for a name that cannot be a file name)."""
        if not _NAME.fullmatch(name):
            raise ProfileError(
                f"bad profile name {name[:70]!r}; use letters, digits, '.', '_', '-' (up to 64)"
            )
        return self.directory / f"{name}.env"

    def names(self) -> list[str]:
        """Every profile's name, sorted (none when the folder does not exist)."""
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.env") if p.is_file() and _NAME.fullmatch(p.stem))

    def values(self, name: str) -> dict[str, str]:
        """The variables profile ``name`` sets, as written (secrets in clear: mask before showing)."""
        path = self.path(name)
        if not path.is_file():
            known = ", ".join(self.names()) or "none"
            raise ProfileError(f"no profile {name!r} in {self.directory} (profiles: {known})")
        try:
            return read_env_file(path)
        except ConfigError as exc:
            raise ProfileError("; ".join(exc.lines)) from None

    def get(self, name: str) -> Profile:
        """Profile ``name``; a :class:`ProfileError` when it does not exist or cannot be read."""
        values = self.values(name)
        return Profile(name, self.path(name), values.get(PRODUCTION_VARIABLE, "").strip() == "true")

    def save(self, name: str, values: Mapping[str, str], *, production: bool = False) -> Profile:
        """Write profile ``name`` (replacing it), one ``KEY=value`` per line."""
        path = self.path(name)
        lines = [f"{k}={v}" for k, v in values.items() if k != PRODUCTION_VARIABLE]
        if production:
            lines.append(f"{PRODUCTION_VARIABLE}=true")
        self.directory.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return Profile(name, path, production)
