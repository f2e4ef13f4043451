"""The OpenSSF model-signing (OMS) digest of a model's weight files.

OMS (``model-signing``, file serialization, ``hash_type: sha256``) hashes each file with SHA-256
and names the model by SHA-256 over the concatenation of those per-file digests, files in the
order of their paths relative to the model directory, compared component by component (the order
of model-signing's ``PurePosixPath`` keys: ``a/b`` before ``a-c``, unlike plain string order). Of a directory, this
module takes every regular file below it, recursively, except git metadata (``.git/``,
``.gitattributes``, ``.github/``, ``.gitignore``, which model-signing ignores by default); a
symbolic link is refused (model-signing refuses them by default too), so the digest always names
the bytes inside the directory.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from detente.errors import ConfigError

__all__ = ["IGNORED", "WeightsDigest", "directory_digest", "file_sha256", "oms_digest", "path_order"]

IGNORED = frozenset({".git", ".gitattributes", ".github", ".gitignore"})
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """SHA-256 of one file, read in 1 MiB chunks (weights can be gigabytes)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def oms_digest(root: Path, files: Sequence[str]) -> str:
    """OpenSSF model-signing digest of ``files`` (paths relative to ``root``)."""
    h = hashlib.sha256()
    for rel in sorted(files, key=path_order):
        h.update(bytes.fromhex(file_sha256(root / rel)))
    return h.hexdigest()


def path_order(rel: str) -> list[str]:
    """Sort key: a ``/``-separated relative path, component by component."""
    return rel.split("/")


@dataclass(frozen=True, slots=True)
class WeightsDigest:
    digest: str
    files: tuple[tuple[str, str], ...]  # (relative path, SHA-256), in digest order

    def as_dict(self) -> dict[str, object]:
        return {
            "digest": {"sha256": self.digest},
            "method": "OpenSSF model-signing, file serialization, sha256",
            "files": [{"name": name, "algorithm": "sha256", "digest": d} for name, d in self.files],
        }


def _walk(root: Path) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise):
        here = Path(dirpath)
        for name in list(dirnames):
            if (here / name).is_symlink():
                raise ConfigError(f"{here / name} is a symbolic link", hint="model-signing refuses symbolic links")
            if here == root and name in IGNORED:
                dirnames.remove(name)
        for name in filenames:
            path = here / name
            if here == root and name in IGNORED:
                continue
            if path.is_symlink():
                raise ConfigError(f"{path} is a symbolic link", hint="model-signing refuses symbolic links")
            if not path.is_file():
                raise ConfigError(f"{path} is not a regular file", hint="a model directory holds regular files")
            found.append(path.relative_to(root).as_posix())
    return found


def _raise(exc: OSError) -> None:
    raise ConfigError(f"cannot read {exc.filename}: {exc.strerror}") from None


def directory_digest(root: Path) -> WeightsDigest:
    """The OMS digest of every regular file below ``root``, with each file's own digest."""
    if not root.is_dir():
        raise ConfigError(f"{root} is not a directory", hint="name the model's weights directory")
    try:
        names = sorted(_walk(root), key=path_order)
        files = tuple((name, file_sha256(root / name)) for name in names)
    except OSError as exc:
        raise ConfigError(f"cannot read {exc.filename or root}: {exc.strerror}") from None
    if not files:
        raise ConfigError(f"{root} holds no files", hint="name the model's weights directory")
    h = hashlib.sha256()
    for _, d in files:
        h.update(bytes.fromhex(d))
    return WeightsDigest(h.hexdigest(), files)
