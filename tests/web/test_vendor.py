"""`python -m quantdesk.web.vendor`: fetches the pinned browser libraries from an npm registry
(a real HTTP server on 127.0.0.1 here), checks the tarball's integrity before reading it, writes
only the listed files, each checked against its sha256, and needs no network when they are in
place."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from quantdesk.web import vendor
from tests.support.npm_registry import (
    FakeRegistry,
    build_tarball,
    fake_registry,
    sha256,
    sri_sha512,
    write_lock,
)

LIB = b"export function createChart() { return 1; }\n"
LICENSE = b"MIT License\n"
TARBALL_PATH = "/demo-lib/-/demo-lib-1.0.0.tgz"


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    with fake_registry() as served:
        yield served


def _lock(tmp_path: Path, registry: FakeRegistry, tarball: bytes, **entry: object) -> Path:
    package: dict[str, object] = {
        "version": "1.0.0",
        "resolved": f"https://registry.npmjs.org{TARBALL_PATH}",
        "integrity": sri_sha512(tarball),
        "files": [
            {"from": "package/dist/lib.mjs", "to": "demo-lib.mjs", "sha256": sha256(LIB)},
            {
                "from": "package/LICENSE",
                "to": "licenses/demo-lib/LICENSE",
                "sha256": sha256(LICENSE),
            },
        ],
        **entry,
    }
    return write_lock(
        tmp_path / "vendor.lock.json", "https://registry.npmjs.org", {"demo-lib": package}
    )


def _run(
    lock: Path, dest: Path, registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch, *args: str
) -> int:
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", registry.base_url)
    return vendor.main(["--lock", str(lock), "--dest", str(dest), *args])


def test_fetch_writes_the_listed_files_then_needs_no_network(
    tmp_path: Path,
    registry: FakeRegistry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tarball = build_tarball(
        {"package/dist/lib.mjs": LIB, "package/LICENSE": LICENSE, "package/README.md": b"x"}
    )
    registry.tarballs[TARBALL_PATH] = tarball
    lock, dest = _lock(tmp_path, registry, tarball), tmp_path / "vendor"

    assert _run(lock, dest, registry, monkeypatch) == 0
    assert (dest / "demo-lib.mjs").read_bytes() == LIB
    assert (dest / "licenses/demo-lib/LICENSE").read_bytes() == LICENSE
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert files == [".stamp", "demo-lib.mjs", "licenses/demo-lib/LICENSE"]  # nothing else
    assert registry.requests == [TARBALL_PATH]  # the mirror's URL, same path as the lock's
    assert "demo-lib 1.0.0: fetched (2 files)" in capsys.readouterr().out

    assert _run(lock, dest, registry, monkeypatch) == 0
    assert registry.requests == [TARBALL_PATH]  # second run: verified on disk, no request
    assert "demo-lib 1.0.0: up to date" in capsys.readouterr().out
    assert _run(lock, dest, registry, monkeypatch, "--check") == 0


def test_a_changed_file_is_fetched_again(
    tmp_path: Path, registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    tarball = build_tarball({"package/dist/lib.mjs": LIB, "package/LICENSE": LICENSE})
    registry.tarballs[TARBALL_PATH] = tarball
    lock, dest = _lock(tmp_path, registry, tarball), tmp_path / "vendor"
    assert _run(lock, dest, registry, monkeypatch) == 0
    (dest / "demo-lib.mjs").write_bytes(b"alert('edited')")
    assert _run(lock, dest, registry, monkeypatch, "--check") == 1
    assert _run(lock, dest, registry, monkeypatch) == 0
    assert (dest / "demo-lib.mjs").read_bytes() == LIB
    assert len(registry.requests) == 2


def test_a_tampered_tarball_writes_nothing(
    tmp_path: Path,
    registry: FakeRegistry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    genuine = build_tarball({"package/dist/lib.mjs": LIB, "package/LICENSE": LICENSE})
    lock = _lock(tmp_path, registry, genuine)
    # Same files the lock's sha256 would accept, but not the tarball the lock pinned.
    registry.tarballs[TARBALL_PATH] = build_tarball(
        {"package/LICENSE": LICENSE, "package/dist/lib.mjs": LIB, "package/evil.js": b"x"}
    )
    dest = tmp_path / "vendor"

    assert _run(lock, dest, registry, monkeypatch) == 1
    err = capsys.readouterr().err
    assert "demo-lib" in err and "integrity" in err
    assert not dest.exists() or not any(dest.rglob("*"))


def test_check_lists_what_is_missing(
    tmp_path: Path,
    registry: FakeRegistry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tarball = build_tarball({"package/dist/lib.mjs": LIB, "package/LICENSE": LICENSE})
    lock, dest = _lock(tmp_path, registry, tarball), tmp_path / "vendor"

    assert _run(lock, dest, registry, monkeypatch, "--check") == 1
    out = capsys.readouterr()
    assert "vendor/demo-lib.mjs is missing" in out.out
    assert "vendor/licenses/demo-lib/LICENSE is missing" in out.out
    assert "python -m quantdesk.web.vendor" in out.err
    assert registry.requests == []  # --check never downloads
    assert not dest.exists()


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("from", "package/../../outside.js"),
        ("from", "/etc/passwd"),
        ("to", "../outside.js"),
        ("to", "/tmp/outside.js"),
    ],
)
def test_a_path_leaving_its_folder_is_refused(
    tmp_path: Path,
    registry: FakeRegistry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    field: str,
    name: str,
) -> None:
    tarball = build_tarball({"package/dist/lib.mjs": LIB, name.lstrip("/"): LIB})
    registry.tarballs[TARBALL_PATH] = tarball
    entry = {"from": "package/dist/lib.mjs", "to": "demo-lib.mjs", "sha256": sha256(LIB)}
    entry[field] = name
    lock, dest = _lock(tmp_path, registry, tarball, files=[entry]), tmp_path / "out" / "vendor"

    assert _run(lock, dest, registry, monkeypatch) == 1
    assert "refused" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert registry.requests == []


def test_members_are_read_by_name_never_extracted(
    tmp_path: Path, registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tarball carrying a `../` member besides the listed ones writes only the listed ones."""
    tarball = build_tarball(
        {"package/../../escaped.js": b"x", "package/dist/lib.mjs": LIB, "package/LICENSE": LICENSE}
    )
    registry.tarballs[TARBALL_PATH] = tarball
    dest = tmp_path / "a" / "b" / "vendor"
    assert _run(_lock(tmp_path, registry, tarball), dest, registry, monkeypatch) == 0
    assert not list(tmp_path.rglob("escaped.js"))


def test_an_unreachable_registry_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_registry() as gone:
        closed = gone.base_url  # nothing listens there once the block has ended
    tarball = build_tarball({"package/dist/lib.mjs": LIB, "package/LICENSE": LICENSE})
    lock = _lock(tmp_path, gone, tarball)
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", closed)
    assert vendor.main(["--lock", str(lock), "--dest", str(tmp_path / "vendor")]) == 2
    err = capsys.readouterr().err
    assert "demo-lib" in err and "NPM_CONFIG_REGISTRY" in err


def test_the_shipped_lock_pins_every_file() -> None:
    lock = vendor.load_lock()
    assert {p.name: p.version for p in lock.packages} == {
        "lightweight-charts": "5.2.1",
        "htm": "3.1.1",
    }
    targets = {f.target for p in lock.packages for f in p.files}
    assert {
        "lightweight-charts.mjs",
        "preact-htm.mjs",
    } <= targets
    for package in lock.packages:
        assert package.integrity.startswith("sha512-")
        assert package.resolved.startswith(lock.registry + "/")
        assert all(len(f.sha256) == 64 for f in package.files)
        assert f"licenses/{package.name}/LICENSE" in targets
    raw = json.loads(vendor.LOCK_PATH.read_text())
    assert set(raw["packages"]) == {p.name for p in lock.packages}
