"""A local S3-compatible server for tests: moto's server (`moto[server]`, a dev dependency)
in a thread on 127.0.0.1 and a random port, with dummy credentials. Nothing leaves the
machine: every client is pointed at this endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
REGION = "us-east-1"


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """Run moto's server until the block ends; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_client(endpoint_url: str) -> Any:
    """A boto3 client of the local server (the test's own view of the bucket)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )


def object_keys(client: Any, bucket: str) -> list[str]:
    answer = client.list_objects_v2(Bucket=bucket)
    return [str(item["Key"]) for item in answer.get("Contents", [])]
