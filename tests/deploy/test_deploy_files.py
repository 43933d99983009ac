"""The deployment files, checked statically (no Docker daemon here): the Dockerfile's recipe,
deploy/docker-compose.yml, deploy/haproxy.cfg (also with `haproxy -c` when installed; required
on CI) and the Prometheus targets, against each other and against quantdesk's own settings."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from quantdesk.config import Settings
from tests.support.servers import server_required

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = ROOT / "Dockerfile"
PREFIX = "QUANTDESK_"
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def api_services() -> list[str]:
    return sorted(name for name, s in services().items() if s.get("command", [None])[0] == "serve")


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    steps = [(*line.split(None, 1), "") for line in lines]
    return [(step[0].upper(), step[1]) for step in steps]


def recipe_problems(text: str) -> list[str]:
    """What is wrong with a Dockerfile recipe (empty when nothing)."""
    steps = dockerfile_instructions(text)
    kinds = [kind for kind, _ in steps]
    problems: list[str] = []
    if kinds.count("FROM") < 2:
        problems.append("not multi-stage (fewer than 2 FROM)")
    start = min((i for i, kind in enumerate(kinds) if kind in {"CMD", "ENTRYPOINT"}), default=None)
    if start is None:
        problems.append("no CMD or ENTRYPOINT")
    else:
        last_from = max(i for i, kind in enumerate(kinds[:start]) if kind == "FROM")
        users = [args.split(":")[0] for kind, args in steps[last_from:start] if kind == "USER"]
        if not users or users[-1] in {"root", "0"}:
            problems.append("the final stage runs as root (no non-root USER before CMD)")
    if not any(kind == "HEALTHCHECK" and "/health/live" in args for kind, args in steps):
        problems.append("no HEALTHCHECK on /health/live")
    env = " ".join(args for kind, args in steps if kind in {"ENV", "ARG"})
    if "NUMBA_CACHE_DIR=" not in env:
        problems.append("NUMBA_CACHE_DIR is not set")
    if not any(kind == "RUN" and "warm_kernels" in args for kind, args in steps):
        problems.append("no RUN warming the numba kernels")
    for name in re.findall(r"\b(\w*(?:SECRET|PASSWORD|TOKEN|PEPPER|API_KEY)\w*)=", env):
        problems.append(f"secret baked into the image: {name}")
    return problems


def test_dockerfile_recipe() -> None:
    text = DOCKERFILE.read_text()
    assert recipe_problems(text) == []
    steps = dockerfile_instructions(text)
    froms = [args for kind, args in steps if kind == "FROM"]
    assert froms[0].endswith("AS builder") and "slim" in text.split("PYTHON_IMAGE=")[1].split()[0]
    runs = " ".join(args for kind, args in steps if kind == "RUN")
    assert "pip wheel" in runs and "python -m quantdesk.web.vendor" in runs
    assert "COPY --from=builder /wheels /wheels" in text
    assert ("ENTRYPOINT", '["quantdesk"]') in steps


@pytest.mark.parametrize(
    ("recipe", "problem"),
    [
        ("FROM a\nUSER app\nHEALTHCHECK CMD x /health/live\nCMD x", "not multi-stage"),
        ("FROM a AS b\nFROM a\nHEALTHCHECK CMD x /health/live\nCMD x", "runs as root"),
        ("FROM a AS b\nUSER app\nFROM a\nCMD x", "runs as root"),
        ("FROM a\nFROM a\nUSER root\nCMD x", "runs as root"),
        ("FROM a\nFROM a\nUSER app\nCMD x", "no HEALTHCHECK"),
        ("FROM a\nFROM a\nUSER app\nCMD x", "no RUN warming"),
        ("FROM a\nENV QUANTDESK_SECRET_KEY=abc \\\n  X=1\nFROM a\nCMD x", "QUANTDESK_SECRET_KEY"),
        ("FROM a\nARG POSTGRES_PASSWORD=abc\nFROM a\nCMD x", "POSTGRES_PASSWORD"),
    ],
)
def test_recipe_check_catches(recipe: str, problem: str) -> None:
    assert any(problem in found for found in recipe_problems(recipe)), recipe_problems(recipe)


def test_every_service_has_an_image_and_the_build_is_the_dockerfile() -> None:
    for name, service in services().items():
        assert service.get("image") or service.get("build"), name
        build = service.get("build")
        if build is not None:
            assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE, name


def _has_healthcheck(service: dict[str, Any]) -> bool:
    check = service.get("healthcheck")
    if check is not None:
        return not check.get("disable", False) and bool(check.get("test"))
    return "build" in service  # the image's own HEALTHCHECK (test_dockerfile_recipe)


def test_dependencies_exist_and_wait_for_health() -> None:
    found = services()
    for name, service in found.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in found, (name, dependency)
            condition = rule["condition"]
            if condition == "service_healthy":
                assert _has_healthcheck(found[dependency]), (name, dependency)
            else:
                assert condition == "service_completed_successfully", (name, dependency)
                assert found[dependency].get("restart") == "no", dependency
    for name in [*api_services(), "worker", "migrate"]:
        assert found[name]["depends_on"]["postgres"]["condition"] == "service_healthy", name


def test_the_stack_has_every_part() -> None:
    found = services()
    commands = {name: s.get("command", [None])[0] for name, s in found.items()}
    assert len(api_services()) >= 2
    assert list(commands.values()).count("beat") == 1
    assert "worker" in commands.values() and commands["migrate"] == "db"
    images = " ".join(str(s.get("image", "")) for s in found.values())
    for image in ("postgres:", "redis:", "haproxy:", "prom/prometheus:", "grafana/grafana:"):
        assert image in images, image


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    return {str(k): str(v) for k, v in env.items()}


def test_environment_names_are_settings() -> None:
    known = {PREFIX + name.upper() for name in Settings.model_fields}
    for name, service in services().items():
        used = {key for key in _environment(service) if key.startswith(PREFIX)}
        assert used <= known, (name, used - known)


def _interpolated(value: str) -> str:
    """A compose value with `${VAR:-default}` as its default and `${VAR:?error}` (a required
    secret) as a strong stand-in."""

    def replace(match: re.Match[str]) -> str:
        kind, rest = match.group(2), match.group(3) or ""
        return "s3cret-" + "x" * 40 if kind == "?" else rest

    return INTERPOLATION.sub(replace, value)


def test_api_environment_is_valid_production_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: _interpolated(v) for k, v in _environment(services()["api1"]).items()}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)
    assert settings.problems() == []
    assert (
        settings.database_url.startswith("postgresql+asyncpg://")
        and "@postgres:" in env["QUANTDESK_DATABASE_URL"]
    )
    assert settings.jobs_backend == "celery" and settings.events_backend == "redis"
    assert settings.redis_url == "redis://redis:6379/0" and settings.cache_backend == "redis"
    assert not settings.jobs_scheduler_enabled  # beat schedules
    assert set(api_services()) <= set(settings.allowed_hosts)  # Prometheus' Host headers
    assert "localhost" in settings.allowed_hosts  # haproxy's health checks
    proxy = services()["haproxy"]["networks"]["backend"]["ipv4_address"]
    assert settings.trusted_proxies == [f"{proxy}/32"]


def test_ports() -> None:
    found = services()
    for name in api_services():
        assert "ports" not in found[name] and found[name]["expose"] == ["8000"], name
    assert any(port.endswith(":8080") for port in found["haproxy"]["ports"])
    for name in ("prometheus", "grafana"):
        assert all(port.startswith("127.0.0.1:") for port in found[name]["ports"]), name


def haproxy_lines() -> list[str]:
    text = (DEPLOY / "haproxy.cfg").read_text()
    code = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in code if line]


def haproxy_backends() -> dict[str, list[str]]:
    backends: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in haproxy_lines():
        if line.split()[0] in ("global", "defaults", "frontend", "resolvers", "backend"):
            current = backends.setdefault(line, []) if line.startswith("backend ") else None
        elif current is not None:
            current.append(line)
    return backends


def test_load_balancer_lists_the_replicas_and_keeps_websockets() -> None:
    lines = haproxy_lines()
    backends = haproxy_backends()
    assert set(backends) == {"backend quantdesk", "backend quantdesk_alive"}
    for backend, checked in (("quantdesk", "/health/ready"), ("quantdesk_alive", "/health/live")):
        body = backends[f"backend {backend}"]
        servers = [line.split() for line in body if line.startswith("server ")]
        assert [(name, address) for _, name, address, *_ in servers] == [
            (name, f"{name}:8000") for name in api_services()
        ], backend
        assert "balance roundrobin" in body
        assert any(line.startswith("http-check send") and checked in line for line in body)
    # the live replicas take the traffic only while none is ready
    assert "use_backend quantdesk_alive if { nbsrv(quantdesk) eq 0 }" in lines
    assert "timeout tunnel 1h" in lines
    assert any(line.startswith("default-server") and " check" in line for line in lines)
    published = services()["haproxy"]["ports"][0].rsplit(":", 1)[1]
    assert f"bind :{published}" in lines


def test_haproxy_accepts_the_config() -> None:
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        if server_required():
            pytest.fail("haproxy is not installed (.ci/run installs it)")
        pytest.skip("haproxy is not installed")
    result = subprocess.run(
        [haproxy, "-c", "-f", str(DEPLOY / "haproxy.cfg")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_scrapes_every_replica_and_grafana_is_provisioned() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = config["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == [f"{name}:8000" for name in api_services()]
    for name in ("prometheus", "grafana", "haproxy"):
        for volume in services()[name]["volumes"]:
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), (name, source)
    datasources = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
    [source] = yaml.safe_load(datasources.read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090"
