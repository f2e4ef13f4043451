"""The two-regime label check and labeling, on the real C2PA fixtures of c2pa-rs (tests/data/c2pa)
and files detente labels itself; the CLI's ``label check``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("c2pa")

from detente.cli.app import main
from detente.errors import MalformedError, MalformedRecord
from detente.media.aigc import AigcLabel
from detente.media.c2pa_credentials import make_party_chain, read_c2pa
from detente.media.containers import read_aigc, write_aigc
from detente.media.guidelines import packaged_guidelines, parse_guideline
from detente.media.label import apply_labels, check_labels

DATA = Path(__file__).resolve().parent.parent / "data" / "c2pa"
ANCHORS = (DATA / "test_cert_root_bundle.pem").read_text()
LABEL = AigcLabel(label="1", content_producer="001191110102MACQD9K64010000", produce_id="cn-2026-42")


def regimes(report) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {r.regime: r for r in report.regimes}


@pytest.mark.parametrize("name", ["C.jpg", "CA.jpg", "CACA.jpg"])
def test_real_fixtures_are_trusted_with_the_bundled_anchors_and_valid_without(name: str) -> None:
    data = (DATA / name).read_bytes()
    trusted = check_labels(data, anchors_pem=ANCHORS)
    assert trusted.c2pa is not None and trusted.c2pa.state == "Trusted"
    assert "claimSignature.validated" in trusted.c2pa.success and not trusted.c2pa.failure
    assert trusted.c2pa.signature["issuer"] == "C2PA Test Signing Cert"
    untrusted = check_labels(data)
    assert untrusted.c2pa is not None and untrusted.c2pa.state == "Valid"
    assert untrusted.c2pa.failure == ("signingCredential.untrusted",)
    # the fixtures are C2PA-signed but declare no AI source and carry no AIGC label
    assert regimes(trusted)["cn-aigc"].failed == ["cn.implicit-present", "cn.implicit-fields", "cn.label-value"]
    assert regimes(trusted)["c2pa"].failed == ["c2pa.ai-source-type"]
    assert regimes(untrusted)["c2pa"].warnings == ["c2pa.trusted-signer"]


def test_the_video_fixture_validates_through_its_bmff_hash() -> None:
    report = check_labels((DATA / "video1.mp4").read_bytes(), anchors_pem=ANCHORS)
    assert report.mime == "video/mp4" and report.c2pa is not None
    # the signer chains to the bundle, yet the SDK reports Valid rather than Trusted: the BMFF
    # hash has additional exclusions (an informational code), which the report passes on verbatim
    assert report.c2pa.state == "Valid" and not report.c2pa.failure
    assert {"signingCredential.trusted", "assertion.bmffHash.match"} <= set(report.c2pa.success)
    assert "assertion.bmffHash.additionalExclusionsPresent" in report.c2pa.informational
    assert "c2pa.hash.bmff.v2" in report.c2pa.assertions


def test_one_changed_byte_fails_with_the_data_hash_code() -> None:
    data = bytearray((DATA / "C.jpg").read_bytes())
    data[-5000] ^= 0x01  # inside the image data, after the manifest
    report = check_labels(bytes(data), anchors_pem=ANCHORS)
    assert report.c2pa is not None and report.c2pa.state == "Invalid"
    assert "assertion.dataHash.mismatch" in report.c2pa.failure
    c2pa = regimes(report)["c2pa"]
    assert c2pa.verdict == "fail" and "c2pa.valid" in c2pa.failed
    detail = next(r.detail for r in c2pa.rules if r.rule_id == "c2pa.valid")
    assert "assertion.dataHash.mismatch" in detail


def test_an_unsigned_file_says_so() -> None:
    report = check_labels((DATA / "no_manifest.jpg").read_bytes())
    assert report.c2pa is not None and report.c2pa.state == "absent"
    assert report.aigc is None
    assert {r.regime: r.verdict for r in report.regimes} == {"c2pa": "fail", "cn-aigc": "fail"}


def test_detente_labels_both_regimes_and_both_survive() -> None:
    chain = make_party_chain("cn.detente.example/log", country="CN")
    original = (DATA / "no_manifest.jpg").read_bytes()
    signed = apply_labels(original, LABEL, chain)
    report = check_labels(signed, anchors_pem=chain.root_pem.decode())
    assert report.c2pa is not None and report.c2pa.state == "Trusted" and report.c2pa.ai_generated
    assert report.c2pa.aigc == LABEL.to_dict()  # the label rides in the manifest too
    assert report.aigc is not None and report.aigc["label"] == LABEL.to_dict()
    assert {r.regime: r.verdict for r in report.regimes} == {"c2pa": "pass", "cn-aigc": "pass"}
    assert regimes(report)["cn-aigc"].warnings == ["cn.propagator"]  # no platform has disseminated it yet
    # another party's root is not this one: Valid, not Trusted
    assert check_labels(signed, anchors_pem=ANCHORS).c2pa.state == "Valid"  # type: ignore[union-attr]


def test_writing_chinas_label_after_signing_breaks_the_manifest() -> None:
    chain = make_party_chain("us.detente.example/log", country="US")
    from detente.media.c2pa_credentials import sign_c2pa

    signed = sign_c2pa((DATA / "no_manifest.jpg").read_bytes(), "image/jpeg", chain)
    assert read_c2pa(signed, "image/jpeg").state == "Valid"
    late = write_aigc(signed, LABEL, "image/jpeg")
    found = read_aigc(late, "image/jpeg")
    assert found is not None and found.label == LABEL
    broken = read_c2pa(late, "image/jpeg", anchors_pem=chain.root_pem.decode())
    assert broken.state == "Invalid" and "assertion.dataHash.mismatch" in broken.failure
    # and apply_labels refuses a file that already carries Content Credentials
    with pytest.raises(MalformedError, match="already carries Content Credentials"):
        apply_labels(signed, LABEL, chain)


def test_text_is_checked_for_its_explicit_label() -> None:
    labeled = "本文由人工智能生成。\n今天的天气很好，适合出门散步。".encode()
    unlabeled = "今天的天气很好，适合出门散步。".encode()
    ok = check_labels(labeled, situation="dialogue")  # a chatbot's output: Art. 4 owes the label
    assert ok.kind == "text" and ok.c2pa is None
    assert {r.regime: r.verdict for r in ok.regimes} == {"c2pa": "not-applicable", "cn-aigc": "pass"}
    bad = check_labels(unlabeled, situation="dialogue")
    assert regimes(bad)["cn-aigc"].failed == ["cn.explicit-text"]
    with pytest.raises(MalformedError, match="explicit label"):
        apply_labels(labeled, LABEL, make_party_chain("x"), mime="text/plain")


def test_bad_input_is_a_typed_error() -> None:
    with pytest.raises(MalformedError, match="empty"):
        check_labels(b"")
    with pytest.raises(MalformedError):
        check_labels(b"\x00\x01\x02 not any format \xff\xfe\xfd")
    truncated = (DATA / "C.jpg").read_bytes()[:3000]
    with pytest.raises(MalformedError):
        check_labels(truncated)
    with pytest.raises(MalformedError, match="does not support"):
        check_labels((DATA / "C.jpg").read_bytes(), mime="application/x-unknown")
    with pytest.raises(MalformedError, match="not UTF-8"):
        check_labels(b"\xff\xfe\x00bad", mime="text/plain")


def test_guidelines_are_data_with_a_digest_and_validated() -> None:
    packaged = {g.guideline_id: g for g in packaged_guidelines()}
    assert set(packaged) == {"us-c2pa", "cn-gb45438"}
    body = packaged["cn-gb45438"].model_dump(mode="json")
    assert parse_guideline(json.dumps(body)).digest() == packaged["cn-gb45438"].digest()
    changed = {**body, "version": "2026.1"}
    assert parse_guideline(changed).digest() != packaged["cn-gb45438"].digest()
    with pytest.raises(MalformedRecord, match="check"):
        parse_guideline({**body, "rules": [{**body["rules"][0], "check": "vibes"}]})
    with pytest.raises(MalformedRecord, match="text_rule"):
        parse_guideline({**body, "rules": [{**body["rules"][-1], "params": {"text_rule": ["nope"]}}]})
    with pytest.raises(MalformedRecord, match="not JSON"):
        parse_guideline(b"{nope")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_label_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    anchors = DATA / "test_cert_root_bundle.pem"
    code, out, _ = run(capsys, "label", "check", str(DATA / "C.jpg"), "--anchors", str(anchors), "--json")
    assert code == 1  # C.jpg declares no AI source and carries no AIGC label
    report = json.loads(out)
    assert report["c2pa"]["state"] == "Trusted"
    assert "claimSignature.validated" in report["c2pa"]["success"]
    chain = make_party_chain("cn.detente.example/log")
    good = tmp_path / "good.jpg"
    good.write_bytes(apply_labels((DATA / "no_manifest.jpg").read_bytes(), LABEL, chain))
    root = tmp_path / "root.pem"
    root.write_bytes(chain.root_pem)
    code, out, err = run(capsys, "label", "check", str(good), "--anchors", str(root), "--lang", "zh")
    assert code == 0, err
    assert "Trusted" in out and "文件元数据包含隐式标识" in out
    code, _, err = run(capsys, "label", "check", str(tmp_path / "missing.jpg"))
    assert code == 2 and "detente: hint:" in err


def test_a_format_without_aigc_support_is_checked_for_c2pa_and_says_so(tmp_path: Path) -> None:
    import io

    from PIL import Image

    from detente.media.c2pa_credentials import sign_c2pa

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buf, format="WEBP")
    chain = make_party_chain("us.detente.example/log")
    signed = sign_c2pa(buf.getvalue(), "image/webp", chain)
    report = check_labels(signed, mime="image/webp", anchors_pem=chain.root_pem.decode())
    assert report.c2pa is not None and report.c2pa.state == "Trusted"
    assert regimes(report)["c2pa"].verdict == "pass"
    cn = regimes(report)["cn-aigc"]
    assert cn.verdict == "fail"
    assert "does not read AIGC labels in image/webp" in next(
        r.detail for r in cn.rules if r.rule_id == "cn.implicit-present"
    )


def _png_with_aigc_text(text: bytes) -> bytes:
    import struct
    import zlib

    from detente.media import png

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            png.make_chunk(b"IHDR", header),
            png.itxt_chunk("AIGC", text),
            png.make_chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")),
            png.make_chunk(b"IEND", b""),
        ]
    )


def test_a_nonconforming_aigc_label_fails_its_regime_and_the_check_goes_on() -> None:
    """Issue #23: a platform's extra key (``ServiceProvider``) is a failure of the cn-aigc regime,
    reported with the reason; the C2PA regime is still judged (before, the whole check aborted)."""
    extra = json.dumps(LABEL.to_dict() | {"ServiceProvider": "platform-x"}).encode()
    report = check_labels(_png_with_aigc_text(extra))
    verdicts = regimes(report)
    assert verdicts["cn-aigc"].verdict == "fail" and verdicts["c2pa"].verdict == "fail"  # both judged
    assert report.aigc is not None and "ServiceProvider" in report.aigc["error"]
    details = " ".join(o.detail for o in verdicts["cn-aigc"].rules)  # type: ignore[attr-defined]
    assert "does not conform to GB 45438 Annex E" in details and "ServiceProvider" in details
    good = check_labels(_png_with_aigc_text(json.dumps(LABEL.to_dict()).encode()))
    assert good.aigc is not None and good.aigc["label"] == LABEL.to_dict()


def test_a_media_report_says_plainly_that_no_visible_label_was_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue #23: never a silent pass on what a person sees or hears."""
    report = check_labels((DATA / "no_manifest.jpg").read_bytes()).as_dict()
    assert report["perceivable"]["checked"] is False and "visible label" in report["perceivable"]["note"]
    text = check_labels("本文由人工智能生成。今天天气很好。".encode()).as_dict()
    assert text["perceivable"]["checked"] is True
    extra = json.dumps(LABEL.to_dict() | {"ServiceProvider": "platform-x"}).encode()
    path = tmp_path / "odd.png"
    path.write_bytes(_png_with_aigc_text(extra))
    code, out, _ = run(capsys, "label", "check", str(path))
    flat = " ".join(out.split())  # the console wraps long lines
    assert code == 1 and "does not conform" in flat and "NOT checked" in flat  # a verdict, not a crash (exit 2)


def test_the_us_guideline_cites_us_sources_not_the_eus() -> None:
    """Issue #23: US rules come from US sources: California's latent disclosure (SB 942, Bus. & Prof.
    Code §22757.3(b), operative 2 Aug 2026 after AB 853), not the EU AI Act's Art. 50."""
    (us,) = [g for g in packaged_guidelines() if g.guideline_id == "us-c2pa"]
    text = json.dumps(us.model_dump(mode="json"))
    assert "Art. 50" not in text and "2024/1689" not in text
    assert "22757.3(b)" in text and "AB 853" in text
