"""C2PA Content Credentials: read and validate a file's manifest store offline, and sign a file
as a party, through the Content Authenticity Initiative's c2pa-python (the c2pa-rs SDK; optional
extra ``media``).

Validation never touches the network: remote manifests and OCSP are not fetched, so a file whose
manifest lives on a server is reported as such rather than fetched. Trust anchors are given per
call (a party's configured anchors plus the roots its peers published as records); without an
anchor a well-formed, correctly signed manifest is ``Valid`` with ``signingCredential.untrusted``,
and with one it is ``Trusted``. Status codes are passed through verbatim.

Each party signs with an X.509 chain detente generates for it (:func:`make_party_chain`): a root
certificate (the anchor the party publishes) and a P-256 leaf meeting the SDK's checks (EKU
emailProtection, KeyUsage digitalSignature, SKI and AKI, validity under 366 days). The leaf key
is separate from the party's log key.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from detente.errors import ConfigError, MalformedMedia

__all__ = [
    "AI_SOURCE_TYPES",
    "IPTC_SOURCE_TYPE",
    "C2paReport",
    "PartyChain",
    "make_party_chain",
    "new_manifest_label",
    "read_c2pa",
    "read_c2pa_trusting",
    "sign_c2pa",
]

IPTC_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_SOURCE_TYPES = frozenset(
    {IPTC_SOURCE_TYPE + "trainedAlgorithmicMedia", IPTC_SOURCE_TYPE + "compositeWithTrainedAlgorithmicMedia"}
)
"""The IPTC digital source types that declare generative-AI content (``algorithmicMedia`` is
media made by an algorithm without training data, so it does not count)."""
AIGC_ASSERTION = "org.detente.cn.aigc"
"""A custom assertion carrying China's AIGC label inside the C2PA manifest as well (informative)."""
MAX_PARENT_DEPTH = 16
"""How far up a chain of ``parentOf`` ingredients the declared digital source type is looked for."""


def _c2pa() -> Any:
    try:
        import c2pa
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigError(
            "C2PA support needs the c2pa-python package",
            hint="install the media extra: pip install 'detente[media]'",
        ) from None
    return c2pa


@dataclass(frozen=True)
class C2paReport:
    """What a file's Content Credentials say, as the SDK reported them."""

    state: str
    """``Trusted``, ``Valid``, ``Invalid``, or ``absent`` (no manifest), ``remote`` (a manifest
    that must be fetched from a server: not done offline)."""
    success: tuple[str, ...] = ()
    failure: tuple[str, ...] = ()
    informational: tuple[str, ...] = ()
    manifests: int = 0
    digital_source_types: tuple[str, ...] = ()
    claim_generator: str = ""
    signature: dict[str, Any] = field(default_factory=dict)
    assertions: tuple[str, ...] = ()
    aigc: dict[str, Any] | None = None
    detail: str = ""
    active_manifest: str = ""
    """The active manifest's label (``urn:c2pa:…``), the one an XMP ``dcterms:provenance`` points to."""
    trusted_by: str = ""
    """Whose anchor made the file ``Trusted``: empty for the checking party's own (and configured)
    anchors, else the log origin of the peer whose published root vouched for its own signer."""

    @property
    def ai_generated(self) -> bool:
        """The active manifest declares a trained-algorithmic or composite digital source type."""
        return any(t in AI_SOURCE_TYPES for t in self.digital_source_types)

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "success": list(self.success),
            "failure": list(self.failure),
            "informational": list(self.informational),
            "manifests": self.manifests,
            "digital_source_types": list(self.digital_source_types),
            "ai_generated": self.ai_generated,
            "claim_generator": self.claim_generator,
            "signature": self.signature,
            "assertions": list(self.assertions),
            "aigc": self.aigc,
            "detail": self.detail,
            "active_manifest": self.active_manifest,
            "trusted_by": self.trusted_by,
        }


def _context(c2pa: Any, anchors_pem: str) -> Any:
    settings: dict[str, Any] = {
        "verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False},
    }
    if anchors_pem.strip():
        settings["trust"] = {"trust_anchors": anchors_pem}
    return c2pa.Context(c2pa.Settings.from_dict(settings))


def _codes(results: dict[str, Any], kind: str) -> tuple[str, ...]:
    active = results.get("activeManifest") or {}
    return tuple(str(item.get("code", "")) for item in active.get(kind, []) or [])


def _declared(manifest: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for assertion in manifest.get("assertions", []) or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in (assertion.get("data") or {}).get("actions", []) or []:
                kind = action.get("digitalSourceType")
                if isinstance(kind, str) and kind not in found:
                    found.append(kind)
    return found


def _parent(manifest: dict[str, Any], store: dict[str, Any]) -> dict[str, Any] | None:
    for ingredient in manifest.get("ingredients", []) or []:
        if ingredient.get("relationship") == "parentOf":
            label = ingredient.get("active_manifest")
            found = (store.get("manifests") or {}).get(label) if isinstance(label, str) else None
            return found if isinstance(found, dict) else None
    return None


def _source_types(manifest: dict[str, Any], store: dict[str, Any]) -> tuple[str, ...]:
    """The digital source types the active manifest declares; when it declares none (a manifest
    that only opened its parent, as a platform's does), those of its ``parentOf`` ingredient's
    manifest, and so on up the chain (at most :data:`MAX_PARENT_DEPTH` manifests)."""
    current: dict[str, Any] | None = manifest
    for _ in range(MAX_PARENT_DEPTH):
        if current is None:
            break
        found = _declared(current)
        if found:
            return tuple(found)
        current = _parent(current, store)
    return ()


def _supported(c2pa: Any, mime: str) -> None:
    if mime not in c2pa.Reader.get_supported_mime_types():
        raise MalformedMedia(
            f"C2PA does not support the media type {mime!r}",
            hint="C2PA covers JPEG, PNG, WebP, GIF, TIFF, HEIF/AVIF, MP4/MOV, WAV, MP3, FLAC, PDF and more",
        )


def read_c2pa(data: bytes, mime: str, *, anchors_pem: str = "") -> C2paReport:
    """Validate the manifest store embedded in ``data`` (of media type ``mime``) offline."""
    c2pa = _c2pa()
    _supported(c2pa, mime)
    context = _context(c2pa, anchors_pem)
    try:
        with c2pa.Reader(mime, io.BytesIO(data), context=context) as reader:
            state = str(reader.get_validation_state())
            results = reader.get_validation_results() or {}
            store = json.loads(reader.json())
            manifest = reader.get_active_manifest() or {}
    except c2pa.C2paError.ManifestNotFound:
        return C2paReport(state="absent", detail="no C2PA manifest in the file")
    except c2pa.C2paError.RemoteManifest as exc:
        return C2paReport(
            state="remote", detail=f"the manifest must be fetched from a server (not done offline): {exc}"
        )
    except c2pa.C2paError as exc:
        raise MalformedMedia(
            f"the file could not be read as {mime}: {exc}", hint="is the file truncated, or of another type?"
        ) from None
    if not manifest:
        return C2paReport(state="absent", detail="no active C2PA manifest")
    aigc = next((a.get("data") for a in manifest.get("assertions", []) or [] if a.get("label") == AIGC_ASSERTION), None)
    info = manifest.get("claim_generator_info") or []
    generator = str(manifest.get("claim_generator") or (info[0].get("name", "") if info else ""))
    return C2paReport(
        state=state,
        success=_codes(results, "success"),
        failure=_codes(results, "failure"),
        informational=_codes(results, "informational"),
        manifests=len(store.get("manifests", {}) or {}),
        digital_source_types=_source_types(manifest, store),
        claim_generator=generator,
        signature=dict(manifest.get("signature_info") or {}),
        assertions=tuple(str(a.get("label", "")) for a in manifest.get("assertions", []) or []),
        aigc=aigc if isinstance(aigc, dict) else None,
        active_manifest=str(store.get("active_manifest") or ""),
    )


def read_c2pa_trusting(
    data: bytes, mime: str, *, anchors_pem: str = "", peer_anchors: Mapping[str, str] | None = None
) -> C2paReport:
    """:func:`read_c2pa` with the checking party's own ``anchors_pem``; then, if the signer is
    untrusted, with each peer's published roots (``peer_anchors``: log origin → PEM) one peer at a
    time. A peer's root vouches only for that peer: the file is ``Trusted`` through it only when
    its signing certificate names that peer (organization = the peer's log origin, as
    :func:`make_party_chain` issues it); a file signed under a peer's root in anyone else's name
    stays ``Valid`` with ``signingCredential.untrusted``, and ``detail`` says why."""
    report = read_c2pa(data, mime, anchors_pem=anchors_pem)
    if report.state != "Valid" or "signingCredential.untrusted" not in report.failure:
        return report
    for origin, pem in sorted((peer_anchors or {}).items()):
        if not pem.strip():
            continue
        through = read_c2pa(data, mime, anchors_pem=pem)
        if through.state != "Trusted":
            continue
        signer = str(through.signature.get("issuer", ""))
        if signer == origin:
            return replace(through, trusted_by=origin)
        return replace(
            report,
            detail=f"a root published by {origin} vouches only for {origin}'s own Content Credentials; "
            f"this file's signer names {signer or 'no organization'}",
        )
    return report


@dataclass(frozen=True)
class PartyChain:
    """A party's C2PA signing material, all PEM: the root is the trust anchor it publishes."""

    root_pem: bytes
    leaf_pem: bytes
    leaf_key_pem: bytes

    @property
    def chain_pem(self) -> bytes:
        return self.leaf_pem + self.root_pem


def make_party_chain(party: str, *, country: str = "ZZ", now: datetime | None = None) -> PartyChain:
    """A root certificate and a C2PA claim-signing leaf (ES256) for ``party``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = (now or datetime.now(UTC)).replace(microsecond=0)
    cn = party[:60]

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, country),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, cn),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = name(f"{cn} C2PA root")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=10 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name(f"{cn} C2PA signer"))
        .issuer_name(root_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )  # digitalSignature, nonRepudiation
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    return PartyChain(
        root_pem=root.public_bytes(serialization.Encoding.PEM),
        leaf_pem=leaf.public_bytes(serialization.Encoding.PEM),
        leaf_key_pem=leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def _actions(source_type: str, parent: bool) -> list[dict[str, Any]]:
    if parent:  # C2PA 2.x: an asset made from a signed one opens it, citing it as the parentOf ingredient
        return [
            {"action": "c2pa.opened", "parameters": {"ingredientIds": [_PARENT_ID]}},
            {"action": "c2pa.edited.metadata"},
        ]
    return [{"action": "c2pa.created", "digitalSourceType": source_type}]


_PARENT_ID = "detente-parent"


def new_manifest_label() -> str:
    """A fresh manifest label, chosen before signing so metadata can point to it
    (:func:`~detente.media.provenance.set_provenance`)."""
    return f"urn:c2pa:{uuid.uuid4()}"


def sign_c2pa(
    data: bytes,
    mime: str,
    chain: PartyChain,
    *,
    source_type: str = IPTC_SOURCE_TYPE + "trainedAlgorithmicMedia",
    title: str = "",
    generator: str = "detente",
    aigc: dict[str, Any] | None = None,
    parent: bytes | None = None,
    tsa_url: str | None = None,
    label: str | None = None,
) -> bytes:
    """``data`` with a new active C2PA manifest signed by ``chain``, labelled ``label`` (default:
    a fresh ``urn:c2pa:`` one).

    Without ``parent``: a ``c2pa.created`` action with ``source_type``. With ``parent`` (the file
    as it was before ``data`` was derived from it, carrying its own Content Credentials): a
    ``c2pa.opened`` action citing it as the ``parentOf`` ingredient (the SDK copies its manifests
    into the new store, so the chain stays verifiable) and ``c2pa.edited.metadata``. China's AIGC
    label is added as an informative assertion when given. ``tsa_url``: an RFC 3161 time-stamp
    authority whose token over the signature is embedded (the SDK fetches it while signing);
    ``None``: no time-stamp, nothing fetched."""
    c2pa = _c2pa()
    _supported(c2pa, mime)
    if not source_type.startswith(IPTC_SOURCE_TYPE):
        raise MalformedMedia(
            f"not an IPTC digital source type: {source_type!r}",
            hint=f"use an IRI under {IPTC_SOURCE_TYPE}, e.g. trainedAlgorithmicMedia",
        )
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions.v2", "data": {"actions": _actions(source_type, parent is not None)}}
    ]
    if aigc is not None:
        assertions.append({"label": AIGC_ASSERTION, "data": aigc})
    manifest: dict[str, Any] = {
        "label": label or new_manifest_label(),
        "claim_generator_info": [{"name": generator, "version": "1"}],
        "assertions": assertions,
    }
    if title:
        manifest["title"] = title
    try:
        signer = c2pa.Signer.from_info(
            c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain.chain_pem, chain.leaf_key_pem, tsa_url)
        )
        out = io.BytesIO()
        with c2pa.Builder(manifest) as builder:
            if parent is not None:
                ingredient = {"title": title or "parent", "relationship": "parentOf", "label": _PARENT_ID}
                builder.add_ingredient(ingredient, mime, io.BytesIO(parent))
            builder.sign(signer, mime, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        if tsa_url and any(word in str(exc).lower() for word in ("http", "time", "tsa")):
            raise ConfigError(
                f"C2PA signing could not get a time-stamp from {tsa_url}: {exc}",
                hint="check the node's c2pa_tsa_url (an RFC 3161 time-stamp authority it can reach), or empty it",
            ) from None
        raise MalformedMedia(
            f"C2PA signing failed for a {mime} file: {exc}", hint="is the file complete and of the type given?"
        ) from None
    return out.getvalue()
