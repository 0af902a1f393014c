"""Where backups live: a directory (a PVC in Kubernetes) or an S3 bucket, chosen by a URL.

A backup is complete when its manifest exists: the data file is written first, the manifest last, and a
directory write goes to a hidden `.partial` name that is renamed only once the bytes are all on disk. So a
crash or a failed upload never leaves something that `list`, `verify` or `restore` would take for a backup.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from hyperpage.errors import AppError

MANIFEST_SUFFIX = ".manifest.json"
VERIFIED_SUFFIX = ".verified.json"


class BackupError(AppError, status=500, code="backup_failed"):
    """A backup operation failed; the message says what and never includes a secret."""


@dataclass(frozen=True)
class StoredObject:
    name: str
    size: int
    modified: float  # unix seconds


class Destination(Protocol):
    url: str

    def put(self, local: Path, name: str) -> None: ...
    def get(self, name: str, local: Path) -> None: ...
    def put_text(self, name: str, text: str) -> None: ...
    def get_text(self, name: str) -> str | None: ...
    def list(self) -> list[StoredObject]: ...
    def delete(self, name: str) -> None: ...


class LocalDestination:
    """A directory; writes go to `.<name>.partial`, are fsynced, then renamed into place."""

    def __init__(self, url: str, root: Path) -> None:
        self.url = url
        self.root = root

    def _path(self, name: str) -> Path:
        if "/" in name or name.startswith("."):
            raise BackupError(f"invalid backup object name {name!r}")
        return self.root / name

    def _commit(self, write: Any, name: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        final = self._path(name)
        partial = self.root / f".{name}.partial"
        try:
            with open(partial, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # make the rename itself durable
        finally:
            os.close(dir_fd)

    def put(self, local: Path, name: str) -> None:
        def write(fh: Any) -> None:
            with open(local, "rb") as src:
                shutil.copyfileobj(src, fh, 1024 * 1024)

        self._commit(write, name)

    def put_text(self, name: str, text: str) -> None:
        self._commit(lambda fh: fh.write(text.encode()), name)

    def get(self, name: str, local: Path) -> None:
        try:
            shutil.copyfile(self._path(name), local)
        except FileNotFoundError:
            raise BackupError(f"{name} is missing from {self.url}") from None

    def get_text(self, name: str) -> str | None:
        try:
            return self._path(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def list(self) -> list[StoredObject]:
        if not self.root.is_dir():
            return []
        return [StoredObject(p.name, p.stat().st_size, p.stat().st_mtime) for p in self.root.iterdir() if p.is_file()]

    def delete(self, name: str) -> None:
        path = self.root / name  # may be a hidden .partial left by a crash
        if path.parent == self.root:
            path.unlink(missing_ok=True)


class S3Destination:
    """An S3 bucket and prefix; works with any S3-compatible store through an endpoint URL.

    Credentials come from boto3's usual chain (environment, web identity/IRSA, instance profile), never
    from Hyperpage's settings. An S3 PUT is atomic, and the manifest is uploaded last.
    """

    def __init__(self, url: str, bucket: str, prefix: str, *, endpoint_url: str | None, region: str | None) -> None:
        import boto3

        self.url = url
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def _key(self, name: str) -> str:
        return self.prefix + name

    def put(self, local: Path, name: str) -> None:
        self.client.upload_file(str(local), self.bucket, self._key(name))

    def put_text(self, name: str, text: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(name), Body=text.encode(), ContentType="application/json"
        )

    def get(self, name: str, local: Path) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.download_file(self.bucket, self._key(name), str(local))
        except ClientError as exc:
            raise BackupError(f"{name} cannot be read from {self.url}: {exc.response['Error']['Code']}") from None

    def get_text(self, name: str) -> str | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"]
        except self.client.exceptions.NoSuchKey:
            return None
        content: str = body.read().decode("utf-8")
        return content

    def list(self) -> list[StoredObject]:
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents", []):
                name = obj["Key"][len(self.prefix) :]
                if name and "/" not in name:
                    found.append(StoredObject(name, obj["Size"], obj["LastModified"].timestamp()))
        return found

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))


def open_destination(url: str, *, s3_endpoint_url: str | None = None, s3_region: str | None = None) -> Destination:
    """Open `file:///abs/dir`, `file://./relative/dir` or `s3://bucket/prefix`."""
    if url.startswith("file://"):
        raw = url[len("file://") :]
        if not raw:
            raise BackupError("a file:// destination needs a directory, e.g. file:///backups")
        return LocalDestination(url, Path(raw))
    parts = urlsplit(url)
    if parts.scheme == "s3" and parts.netloc:
        return S3Destination(url, parts.netloc, parts.path, endpoint_url=s3_endpoint_url, region=s3_region)
    raise BackupError(f"unsupported backup destination {url!r} (use file:///dir or s3://bucket/prefix)")
