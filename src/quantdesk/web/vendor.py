"""Fetch the dashboard's third-party browser libraries: `python -m quantdesk.web.vendor [--check]`.

The pins are in `vendor.lock.json` beside this file: per npm package its version, tarball URL,
SRI `integrity` hash, and the files taken from the tarball with the sha256 of each. For every
package whose files are missing from `static/vendor/` or differ from the lock, the tarball is
downloaded, its integrity checked before anything is read out of it (a mismatch writes nothing),
only the listed members are read (never extracted by their own names, so a tarball cannot write
elsewhere; names with `..` or a leading `/` are refused), each file is checked against its
sha256 and written atomically (temporary file, then rename). Files already in place with the
right sha256 need no network. `--check` only verifies (exit 1, listing what is missing).

The registry is the one in the lock unless `NPM_CONFIG_REGISTRY` (or `npm_config_registry`, as
npm spells it) names a mirror. This is plain Python even where npm is installed: one code path,
and no Node needed anywhere. Exit codes: 0 done, 1 verification failed, 2 download failed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
LOCK_PATH = HERE / "vendor.lock.json"
VENDOR_DIR = HERE / "static" / "vendor"
STAMP = ".stamp"  # written when every file is in place (the Makefile's target)
REGISTRY_ENV = ("NPM_CONFIG_REGISTRY", "npm_config_registry")
MAX_TARBALL_BYTES = 32 * 1024 * 1024
TIMEOUT_SECONDS = 60.0
FETCH_HINT = "run `python -m quantdesk.web.vendor` (make run does it)"


class VendorError(Exception):
    """The lock, a tarball or a file does not match (exit 1)."""


class DownloadError(Exception):
    """A tarball could not be downloaded (exit 2)."""


@dataclass(frozen=True)
class LockedFile:
    source: str  # member name in the tarball, e.g. package/dist/x.js
    target: str  # path under static/vendor/
    sha256: str


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    resolved: str
    integrity: str
    files: tuple[LockedFile, ...]


@dataclass(frozen=True)
class Lock:
    registry: str
    packages: tuple[LockedPackage, ...]


def _safe_relative(name: str, what: str) -> str:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise VendorError(f"{what} {name!r} is not a plain relative path: refused")
    return name


def load_lock(path: Path = LOCK_PATH) -> Lock:
    try:
        document = json.loads(path.read_text())
        packages = tuple(
            LockedPackage(
                name=name,
                version=entry["version"],
                resolved=entry["resolved"],
                integrity=entry["integrity"],
                files=tuple(
                    LockedFile(
                        source=_safe_relative(item["from"], f"{name}: member"),
                        target=_safe_relative(item["to"], f"{name}: target"),
                        sha256=item["sha256"].lower(),
                    )
                    for item in entry["files"]
                ),
            )
            for name, entry in document["packages"].items()
        )
        return Lock(registry=document.get("registry", "").rstrip("/"), packages=packages)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise VendorError(f"{path}: not a valid vendor lock ({exc!r})") from exc


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_problem(vendor_dir: Path, locked: LockedFile) -> str | None:
    """Why `locked` is not in place (missing / differs), or None when it is."""
    path = vendor_dir / locked.target
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return f"vendor/{locked.target} is missing"
    except OSError as exc:
        return f"vendor/{locked.target} cannot be read ({exc.strerror})"
    if _sha256(data) != locked.sha256:
        return f"vendor/{locked.target} differs from the lock"
    return None


def package_problems(vendor_dir: Path, package: LockedPackage) -> list[str]:
    return [p for f in package.files if (p := file_problem(vendor_dir, f)) is not None]


def tarball_url(package: LockedPackage, lock: Lock, env: dict[str, str]) -> str:
    """The lock's URL, or the same path on the registry named by NPM_CONFIG_REGISTRY."""
    mirror = next((env[name] for name in REGISTRY_ENV if env.get(name)), "").rstrip("/")
    if mirror and lock.registry and package.resolved.startswith(lock.registry + "/"):
        return mirror + package.resolved[len(lock.registry) :]
    return package.resolved


def check_integrity(data: bytes, integrity: str, name: str) -> None:
    """Subresource-Integrity check (`sha512-<base64>`; any listed hash of a known kind)."""
    for token in integrity.split():
        algorithm, _, expected = token.partition("-")
        if algorithm in {"sha256", "sha384", "sha512"}:
            digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
            if digest == expected:
                return
    raise VendorError(
        f"{name}: the downloaded tarball does not match the lock's integrity hash "
        "(tampered or corrupted download, or a wrong mirror): nothing was written"
    )


def download(url: str, name: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "quantdesk-vendor"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            data: bytes = response.read(MAX_TARBALL_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(
            f"{name}: cannot download {url} ({reason}). Without access to the npm registry, "
            "set NPM_CONFIG_REGISTRY to a registry mirror you can reach and run "
            "`python -m quantdesk.web.vendor` again"
        ) from exc
    if len(data) > MAX_TARBALL_BYTES:
        raise VendorError(f"{name}: {url} is larger than {MAX_TARBALL_BYTES} bytes: refused")
    return data


def read_members(tarball: bytes, package: LockedPackage) -> dict[str, bytes]:
    """The listed members' bytes, each checked against its sha256 (nothing touches the disk)."""
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:*") as archive:
            for locked in package.files:
                try:
                    member = archive.getmember(locked.source)
                except KeyError:
                    raise VendorError(
                        f"{package.name}: {locked.source} is not in the tarball"
                    ) from None
                handle = archive.extractfile(member) if member.isfile() else None
                if handle is None:
                    raise VendorError(f"{package.name}: {locked.source} is not a regular file")
                data = handle.read()
                if _sha256(data) != locked.sha256:
                    raise VendorError(
                        f"{package.name}: {locked.source} does not match its sha256 in the lock"
                    )
                contents[locked.target] = data
    except tarfile.TarError as exc:
        raise VendorError(f"{package.name}: the tarball cannot be read ({exc})") from exc
    return contents


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as temp:
        temp.write(data)
    try:
        os.chmod(temp.name, 0o644)
        os.replace(temp.name, path)
    except BaseException:
        Path(temp.name).unlink(missing_ok=True)
        raise


def fetch_package(
    package: LockedPackage, lock: Lock, vendor_dir: Path, env: dict[str, str]
) -> None:
    tarball = download(tarball_url(package, lock, env), package.name)
    check_integrity(tarball, package.integrity, package.name)
    for target, data in read_members(tarball, package).items():
        write_atomically(vendor_dir / target, data)
    problems = package_problems(vendor_dir, package)
    if problems:  # written, yet not what the lock says: a disk or a concurrent writer
        raise VendorError(f"{package.name}: after writing, " + "; ".join(problems))


def run(lock_path: Path, vendor_dir: Path, *, check: bool, env: dict[str, str]) -> int:
    lock = load_lock(lock_path)
    stamp = vendor_dir / STAMP
    failed = False
    for package in lock.packages:
        label = f"{package.name} {package.version}"
        problems = package_problems(vendor_dir, package)
        if not problems:
            print(f"{label}: up to date")
            continue
        if check:
            print(f"{label}: " + "; ".join(problems))
            failed = True
            continue
        fetch_package(package, lock, vendor_dir, env)
        print(f"{label}: fetched ({len(package.files)} files)")
    if failed:
        stamp.unlink(missing_ok=True)
        print(f"vendor files missing or different: {FETCH_HINT}", file=sys.stderr)
        return 1
    write_atomically(stamp, lock_path.read_bytes())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m quantdesk.web.vendor",
        description="Fetch the dashboard's pinned browser libraries into static/vendor/.",
    )
    parser.add_argument("--check", action="store_true", help="only verify; exit 1 if not in place")
    parser.add_argument("--lock", type=Path, default=LOCK_PATH, help=argparse.SUPPRESS)
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        return run(args.lock, args.dest, check=args.check, env=dict(os.environ))
    except DownloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except VendorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
