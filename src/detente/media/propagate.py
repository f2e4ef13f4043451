"""A platform passes labelled content on: GB 45438's dissemination fields, and a C2PA manifest of
its own that cites the one already there.

The Measures for Labeling AI-Generated Synthetic Content (Art. 6) and GB 45438-2025 Annex E give
the platform that disseminates content its own fields in the implicit label,
``ContentPropagator`` (the platform's name or code) and ``PropagateID`` (its dissemination ID),
beside the generating service's ``ContentProducer`` and ``ProduceID``, which it keeps as they are.
Writing them changes the file's metadata, which breaks the hard binding of any C2PA manifest the
file already carries; so when the file has Content Credentials, :func:`propagate_labels` signs a
new manifest over the relabelled file, whose ``c2pa.opened`` action cites the file as it was as
its ``parentOf`` ingredient. The SDK copies the earlier manifests into the new store with their
validation results, so a reader sees the platform's manifest as active and the generator's one
as the ingredient, each signature still checkable.

A file without Content Credentials gets the fields only: detente does not sign a manifest in a
platform's name over content whose origin no manifest states.
"""

from __future__ import annotations

from pydantic import ValidationError

from detente._internal.validation import describe_validation_error
from detente.errors import MalformedMedia, MalformedRecord
from detente.media import containers
from detente.media.aigc import AigcLabel
from detente.media.c2pa_credentials import PartyChain, read_c2pa
from detente.media.label import kind_of, sign_checked

__all__ = ["propagate_labels"]


def _propagated(found: containers.AigcFound | None, label: str | None, propagator: str, propagate_id: str) -> AigcLabel:
    """The file's label with the platform's fields set (a new label when the file has none)."""
    if not propagator.strip():
        raise MalformedRecord("ContentPropagator is empty", hint="name the platform (its name or service code)")
    if found is None and label is None:
        raise MalformedMedia(
            "the file carries no AIGC implicit label to propagate",
            hint="say what the platform knows (Measures Art. 6): --label 2 (the uploader declared it AI-generated) "
            "or --label 3 (suspected); 1 only for content the platform knows to be AI-generated",
        )
    if found is not None and label is not None and label != found.label.label:
        raise MalformedMedia(
            f"the file's AIGC label says Label={found.label.label!r}; a platform does not change it to {label!r}",
            hint="leave out --label: the producer's fields are kept as they are",
        )
    fields = found.label.to_dict() if found is not None else {"Label": label}
    fields.update({"ContentPropagator": propagator, "PropagateID": propagate_id})
    try:
        return AigcLabel.model_validate(fields)
    except ValidationError as exc:
        raise MalformedRecord(describe_validation_error(exc, "AIGC label")) from None


def propagate_labels(
    data: bytes,
    chain: PartyChain,
    *,
    propagator: str,
    propagate_id: str,
    mime: str | None = None,
    label: str | None = None,
    anchors_pem: str = "",
    tsa_url: str | None = None,
) -> bytes:
    """``data`` with ``ContentPropagator``/``PropagateID`` added to its AIGC label (``label``:
    the ``Label`` value when the file has no label yet) and, when it carries Content Credentials,
    a new manifest signed with ``chain`` that cites the existing one as its parent ingredient.

    Refused: text (its label is the wording), a label that does not conform (reading it raises),
    a ``label`` that contradicts the file's, and Content Credentials that are remote or do not
    validate (a platform's manifest would vouch for a broken chain)."""
    mime = mime or containers.detect_format(data)
    if kind_of(mime) == "text":
        raise MalformedMedia(
            "text carries an explicit label, not file metadata", hint="a platform shows the notice with the text"
        )
    new = _propagated(containers.read_aigc(data, mime), label, propagator, propagate_id)
    existing = read_c2pa(data, mime, anchors_pem=anchors_pem)
    if existing.state in ("remote", "Invalid"):
        codes = ", ".join(existing.failure) or existing.detail
        raise MalformedMedia(
            f"the file's Content Credentials are {existing.state} ({codes}); a new manifest would cite them",
            hint="propagate the original file as its producer signed it",
        )
    relabelled = containers.write_aigc(data, new, mime)
    if existing.state == "absent":
        return relabelled
    return sign_checked(
        relabelled,
        mime,
        chain,
        parent=data,
        title="propagated",
        aigc=new.to_dict(),
        tsa_url=tsa_url,
    )
