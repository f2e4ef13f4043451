"""Party key files: Go signer-key text, written with mode 0600 and refused when readable by others."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from detente.crypto.keys import Ed25519Identity, check_key_name
from detente.errors import KeyFileError, MalformedKey

__all__ = ["check_party_key_name", "install_rotated_key", "read_identity", "write_identity"]


def check_party_key_name(name: str) -> str:
    """A party key's name (its log origin): a signed-note key name (no '+', no spaces) in ASCII,
    as key files are. Raises :class:`MalformedKey` with a hint; returns ``name``."""
    hint = "a key name is the log origin in ASCII, e.g. us.detente.example/log (a Unicode domain in its xn-- form)"
    try:
        check_key_name(name)
    except MalformedKey as exc:
        raise MalformedKey(exc.message, hint=hint) from None
    if not name.isascii():
        raise MalformedKey(f"key name {name!r} is not ASCII", hint=hint)
    return name


def write_identity(identity: Ed25519Identity, path: str | Path) -> Path:
    """Write the private key to a new file with mode 0600. Never overwrites an existing key, and
    never leaves a half-written one: a file this call created is removed if writing it fails."""
    check_party_key_name(identity.name)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(
            f"key file {p} already exists", hint="choose another path; detente never overwrites a key"
        ) from None
    except OSError as exc:
        raise KeyFileError(f"cannot create key file {p}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(identity.signer_key() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(p, 0o600)
    except BaseException as exc:
        p.unlink(missing_ok=True)  # created above (O_EXCL): never someone else's key
        if isinstance(exc, OSError):
            raise KeyFileError(
                f"cannot write key file {p}: {exc.strerror}", hint="check the disk and the folder"
            ) from None
        raise
    return p


def read_identity(path: str | Path) -> Ed25519Identity:
    """Read a private key file, refusing one that group or others can read."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
        text = p.read_text(encoding="ascii")
    except FileNotFoundError:
        raise KeyFileError(f"no key file at {p}", hint="create one with: detente key generate NAME") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read key file {p}: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"key file {p} is accessible by other users (mode {stat.S_IMODE(mode):04o})",
            hint=f"run: chmod 600 {p}",
        )
    try:
        return Ed25519Identity.parse_signer_key(text)
    except MalformedKey as exc:
        raise KeyFileError(
            f"{p} is not a detente/Go signer key: {exc.message}",
            hint="a key file is one line PRIVATE+KEY+NAME+ID+KEY, as written by: detente key generate NAME --out FILE",
        ) from None


def install_rotated_key(path: str | Path, staged: str | Path, old: Ed25519Identity) -> Path:
    """After a rotation is logged: keep the old key as ``<path>.<old key ID>`` (a hard link, never
    overwriting) and atomically move the staged new key to ``path``. Returns the kept old file."""
    p, new = Path(path), Path(staged)
    kept = p.with_name(f"{p.name}.{old.vkey().key_id:08x}")
    try:
        if not kept.exists():
            os.link(p, kept)
        os.replace(new, p)
        dir_fd = os.open(p.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise KeyFileError(
            f"cannot install the rotated key at {p}: {exc.strerror}",
            hint=f"the rotation is logged; move {new} to {p} by hand before restarting the node",
        ) from None
    return kept
