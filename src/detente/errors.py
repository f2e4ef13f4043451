"""Every error detente raises on purpose.

One module, one hierarchy. Each class carries a stable ``code`` (used in HTTP problem bodies and
in ``--json`` CLI output), an HTTP status, and an optional ``hint`` that tells the user how to
fix the problem. Surfaces render these in one place each (``detente.cli.render`` for the CLI);
nothing else formats errors.

Verification in detente fails closed: verifiers return the verified value or raise a subclass of
:class:`VerificationError`; they never return ``False`` and never leak ``ValueError`` or
``binascii.Error`` from the libraries underneath.
"""

from __future__ import annotations

__all__ = [
    "AlreadyAnswered",
    "AuthError",
    "BudgetExceeded",
    "CheckpointConflict",
    "ConfigError",
    "ConsistencyError",
    "DetenteError",
    "EntryTooLarge",
    "Forbidden",
    "HeavyWorkBusy",
    "HeavyWorkerLost",
    "IdempotencyKeyInUse",
    "IdempotencyKeyReused",
    "InclusionError",
    "JournalTampered",
    "KeyFileError",
    "LanguageMismatch",
    "LogNotFound",
    "MalformedCheckpoint",
    "MalformedEnvelope",
    "MalformedError",
    "MalformedJSON",
    "MalformedKey",
    "MalformedMedia",
    "MalformedNote",
    "MalformedPolicy",
    "MalformedProof",
    "MalformedRecord",
    "MalformedTile",
    "MetadataTooLarge",
    "Pushback",
    "QuotaExceeded",
    "RateLimited",
    "SignatureError",
    "StorageError",
    "StoreUnavailable",
    "UnknownKey",
    "UnknownRecipient",
    "UnknownRecordType",
    "VerificationError",
]


class DetenteError(Exception):
    """Base of every error detente raises deliberately."""

    code: str = "detente-error"
    http_status: int = 500
    default_hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def diagnostics(self) -> str:
        """The human text: the message, then the hint on its own line when there is one."""
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message

    def problem(self) -> dict[str, object]:
        """An RFC 9457 problem body for this error."""
        body: dict[str, object] = {
            "type": f"https://detente.dev/problems/{self.code}",
            "title": self.code.replace("-", " "),
            "status": self.http_status,
            "detail": self.message,
            "code": self.code,
        }
        if self.hint:
            body["hint"] = self.hint
        return body


# --- malformed input: the bytes do not parse ------------------------------------------------


class MalformedError(DetenteError):
    """Input that does not parse as the format it claims to be."""

    code = "malformed"
    http_status = 400


class MalformedJSON(MalformedError):
    code = "malformed-json"


class MalformedKey(MalformedError):
    code = "malformed-key"
    default_hint = "a verifier key looks like name+8hexdigits+base64, e.g. example.com/log+530d903a+Aek…"


class MalformedNote(MalformedError):
    code = "malformed-note"
    default_hint = (
        "a signed note is text ending in a newline, a blank line, then lines "
        "'— <key name> <base64 signature>' (see https://c2sp.org/signed-note)"
    )


class MalformedCheckpoint(MalformedError):
    code = "malformed-checkpoint"
    default_hint = (
        "a checkpoint's text is '<origin>\\n<size>\\n<base64 root>\\n' (see https://c2sp.org/tlog-checkpoint)"
    )


class MalformedPolicy(MalformedError):
    code = "malformed-policy"
    default_hint = (
        "lines are 'log <vkey> [url]', 'witness <name> <vkey> [url]', "
        "'group <name> <k|all|any> <members>…', 'quorum <name|none>' (see https://c2sp.org/tlog-policy)"
    )


class MalformedEnvelope(MalformedError):
    code = "malformed-envelope"
    default_hint = "a DSSE envelope is JSON with payload, payloadType and signatures[].sig"


class MalformedProof(MalformedError):
    code = "malformed-proof"
    default_hint = "proof hashes are base64 (or hex) encodings of 32-byte SHA-256 values"


class MalformedTile(MalformedError):
    code = "malformed-tile"


class MalformedRecord(MalformedError):
    code = "malformed-record"
    http_status = 422


class UnknownRecordType(MalformedRecord):
    """A record type this node does not sign: not in the catalogue (``detente catalogue``) and
    not one of the free-form types. Nothing was signed."""

    code = "unknown-record-type"
    default_hint = "list the record types with: detente catalogue"


class LanguageMismatch(MalformedRecord):
    """A text whose script contradicts its language tag (Han text marked ``en``, Latin text marked
    ``zh``). Nothing was signed; the caller may force it through when the tag is right."""

    code = "language-mismatch"


class AlreadyAnswered(MalformedRecord):
    """A reply this party has already logged to the same record (a second acknowledgement, or
    one after an answer). A signed reply cannot be taken back, so none is added."""

    code = "already-answered"
    http_status = 409


class UnknownRecipient(MalformedRecord):
    """A recipient that is not the log origin of a peer this node follows. Nothing was signed."""

    code = "unknown-recipient"
    default_hint = "name each recipient by a pinned peer's name or log origin (detente peer list)"


class MalformedMedia(MalformedError):
    """A media file (image, video, audio) that does not parse as its type, or a type not supported."""

    code = "malformed-media"


class MetadataTooLarge(MalformedMedia):
    """Metadata (an AIGC label, a text chunk) over the size detente reads or writes."""

    code = "metadata-too-large"
    http_status = 413


class QuotaExceeded(MalformedError):
    """A record would exceed a quota the agreement in force sets (e.g. withheld notifications a year)."""

    code = "quota-exceeded"
    http_status = 409


class EntryTooLarge(MalformedError):
    code = "entry-too-large"
    http_status = 413
    default_hint = "a log entry is at most 65,535 bytes (C2SP entry bundles use 16-bit lengths)"


# --- verification: the bytes parse but are not what they claim ------------------------------


class VerificationError(DetenteError):
    """A signature, proof or policy did not verify. Always fail closed on this."""

    code = "verification-failed"
    http_status = 422


class SignatureError(VerificationError):
    code = "bad-signature"


class UnknownKey(VerificationError):
    code = "no-trusted-signature"
    http_status = 403
    default_hint = (
        "trust the signer's verifier key (name+keyid+base64, e.g. from: detente peer list): "
        "detente note verify --key VKEY, detente log … --vkey VKEY, detente eval verify --vkey VKEY"
    )


class InclusionError(VerificationError):
    code = "inclusion-proof-failed"


class ConsistencyError(VerificationError):
    code = "consistency-proof-failed"


# --- configuration and storage --------------------------------------------------------------


class JournalTampered(VerificationError):
    """The operator journal's hash chain is broken: a row was edited, removed or reordered in the
    database after it was written (``detente.store.journal_protocol.verify_chain``)."""

    code = "journal-tampered"
    default_hint = (
        "the node's database was changed outside detente: keep a copy of it as evidence and compare "
        "with an earlier export (detente journal --json)"
    )


class AuthError(DetenteError):
    """No valid operator token, or a token whose role may not do this."""

    code = "unauthorized"
    http_status = 401
    default_hint = "send 'Authorization: Bearer <token>' with a token from: detente token create"


class Forbidden(AuthError):
    code = "forbidden"
    http_status = 403
    default_hint = "ask an admin for a token with a role that may do this"


class IdempotencyKeyReused(MalformedError):
    """An ``Idempotency-Key`` this token sent before with a different request (method, path, query
    or body). The first request's answer stands; nothing was done for this one."""

    code = "idempotency-key-reused"
    http_status = 422
    default_hint = "send a new Idempotency-Key with a new request; resend the first request unchanged for its answer"


class IdempotencyKeyInUse(DetenteError):
    """The request that first sent this ``Idempotency-Key`` is still being answered."""

    code = "idempotency-key-in-use"
    http_status = 409
    default_hint = "retry in a moment: the retry then gets the first request's answer"


class ConfigError(DetenteError):
    """A problem of the node's configuration or installation (a missing tokenizer, a refused API
    key): the node cannot do this until its operator fixes it. Never the caller's fault, and never
    a 500: the API answers 503 with the hint."""

    code = "config-error"
    http_status = 503


class KeyFileError(ConfigError):
    code = "key-file"


class PinRefused(ConfigError):
    """A peer pin that could hurt the node (its own origin, a second pin of one log, a key of the
    wrong type, a URL that is not http(s)); nothing was stored."""

    code = "pin-refused"
    http_status = 422


class StorageError(DetenteError):
    code = "storage-error"
    http_status = 503


class StoreUnavailable(StorageError):
    code = "store-unavailable"


class Pushback(StorageError):
    """Too much work is already queued; try again shortly (HTTP 503 with Retry-After)."""

    code = "pushback"
    http_status = 503
    default_hint = "the log is busy; retry after a short delay"


class RateLimited(DetenteError):
    """Too many expensive requests from one token or one client address (the node's
    ``rate_limit_*`` settings): HTTP 429 with ``Retry-After``. Nothing was done."""

    code = "rate-limited"
    http_status = 429
    default_hint = "wait Retry-After seconds; the node's operator sets the limits (rate_limit_* in detente.toml)"

    def __init__(self, message: str, *, retry_after: str = "1", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class HeavyWorkBusy(RateLimited):
    """Every heavy-work slot (``heavy_slots`` in detente.toml: label checks, reports, imports,
    exports, eval runs) is taken: HTTP 503 with ``Retry-After``. Nothing was done."""

    code = "heavy-work-busy"
    http_status = 503
    default_hint = "retry after Retry-After seconds; the node's operator sets heavy_slots in detente.toml"


class BudgetExceeded(DetenteError):
    """A heavy read (a label check, a report, a STIX export) took longer than ``heavy_budget_seconds``:
    HTTP 503; its answer was abandoned and nothing was written."""

    code = "budget-exceeded"
    http_status = 503
    default_hint = (
        "send a smaller input (or a narrower query), or ask the node's operator to raise heavy_budget_seconds "
        "in detente.toml"
    )


class HeavyWorkerLost(DetenteError):
    """The worker process doing a heavy read (a label check's parsing and scan) ended before it
    answered (killed, out of memory, a parser crash): HTTP 503; nothing was written, and the next
    request gets a fresh worker."""

    code = "heavy-worker-lost"
    http_status = 503
    default_hint = "retry; if the same input loses its worker again, send a smaller or different input"


class SyncBudgetExceeded(StoreUnavailable):
    """A peer's new entries exceed what one sync may hold or take (``sync_max_bytes``,
    ``sync_max_seconds``); nothing was mirrored."""

    code = "sync-budget-exceeded"


class LogNotFound(StorageError):
    code = "log-not-found"
    http_status = 404


class CheckpointConflict(StorageError):
    """The stored checkpoint is not the one this writer last saw (compare-and-swap failed).

    Raised instead of publishing a checkpoint that could fork the log: the caller must reload
    the log state and integrate again.
    """

    code = "checkpoint-conflict"
    http_status = 409
    default_hint = "another writer advanced the log; retry the append"
