"""One loopback cluster (`quantdesk cluster up --replicas 2 --workers 1`) per module, stopped
with `cluster down` at its end; the cluster tests run only under `-m cluster`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from quantdesk.cluster.state import ClusterState
from tests.support.cluster import require_binaries, running_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterState]:
    require_binaries()
    directory: Path = tmp_path_factory.mktemp("cluster")
    with running_cluster(directory, replicas=2, workers=1) as state:
        yield state
