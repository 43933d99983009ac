"""One loopback cluster (`quantdesk cluster up --replicas 2 --workers 1`) per module, stopped
with `cluster down` at its end; the cluster tests run only under `-m cluster` (and
`-m cluster_faults`). A module may give its cluster extra settings by overriding
`cluster_env`: they stay in this process's environment for the module, so a process the
tests restart (quantdesk.cluster.restart) gets them too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from quantdesk.cluster.state import ClusterState
from tests.support.cluster import require_binaries, running_cluster


@pytest.fixture(scope="module")
def cluster_env() -> dict[str, str]:
    return {}


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, cluster_env: dict[str, str]
) -> Iterator[ClusterState]:
    require_binaries()
    directory: Path = tmp_path_factory.mktemp("cluster")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in cluster_env.items():
            patch.setenv(name, value)
        with running_cluster(directory, replicas=2, workers=1) as state:
            yield state
