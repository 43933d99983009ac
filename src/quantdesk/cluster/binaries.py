"""Where the cluster's server binaries are (Debian packages: postgresql, redis-server, haproxy)."""

from __future__ import annotations

import os
import pwd
import re
import shutil
from pathlib import Path

PG_BINARIES = ("initdb", "pg_ctl", "postgres")
PG_GLOB_ROOT = Path("/usr/lib/postgresql")
PG_OS_USER = "postgres"
_SBIN_DIRS = (Path("/usr/bin"), Path("/usr/local/bin"), Path("/usr/sbin"), Path("/sbin"))


class BinaryMissing(RuntimeError):
    """A server binary the cluster needs is not installed (the message says which)."""


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def postgres_bin_dir() -> Path:
    """The directory holding initdb, pg_ctl and postgres: PATH first, then the newest
    /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    candidates += sorted(
        (p for p in PG_GLOB_ROOT.glob("*/bin") if p.is_dir()), key=_version_key, reverse=True
    )
    for bin_dir in candidates:
        if all(_executable(bin_dir / exe) for exe in PG_BINARIES):
            return bin_dir
    raise BinaryMissing(
        f"PostgreSQL server binaries ({', '.join(PG_BINARIES)}) not found on PATH or in "
        f"{PG_GLOB_ROOT}/*/bin: install the postgresql package"
    )


def find_binary(name: str, package: str) -> Path:
    """`name` on PATH, else in /usr/bin, /usr/local/bin, /usr/sbin, /sbin."""
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    for directory in _SBIN_DIRS:
        if _executable(directory / name):
            return directory / name
    raise BinaryMissing(f"{name} not found on PATH or in /usr/sbin: install the {package} package")


def postgres_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """Command prefix running PostgreSQL as the postgres user when we are root (PostgreSQL
    refuses to run as root), and that user; ([], None) otherwise."""
    if os.geteuid() != 0:
        return [], None
    runuser = find_binary("runuser", "util-linux")
    try:
        user = pwd.getpwnam(PG_OS_USER)
    except KeyError:
        raise BinaryMissing(
            f"running as root, PostgreSQL must run as the {PG_OS_USER!r} user, which does not exist"
        ) from None
    return [str(runuser), "-u", PG_OS_USER, "--"], user
