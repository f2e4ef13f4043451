"""C2SP tlog-policy (``detente.tlog.policy``): quorums met and unmet, and every malformed form of
each line refused with :class:`MalformedPolicy` naming the line."""

from __future__ import annotations

import dataclasses

import pytest

from detente.crypto.keys import Ed25519Identity
from detente.errors import MalformedPolicy, VerificationError
from detente.tlog.policy import parse_policy

# Fixed seeds: the keys appear in the parametrized test ids, which must be the same in every
# collection (pytest-xdist's workers each collect and compare).
LOG = Ed25519Identity.from_seed("us.detente.example/log", bytes(32))
US, CN, A, B = (
    Ed25519Identity.from_seed(f"{n}.witness.example", bytes([i]) * 32) for i, n in enumerate(("us", "cn", "a", "b"), 1)
)


def _witnesses() -> str:
    return "".join(f"witness {n} {w.cosigner_vkey()}\n" for n, w in (("us", US), ("cn", CN), ("a", A), ("b", B)))


def _policy(rest: str) -> str:
    return f"log {LOG.vkey()} https://us.example\n" + _witnesses() + rest


def test_a_full_policy_parses() -> None:
    policy = parse_policy(
        _policy("group neutral any a b  # one neutral auditor\ngroup all-of all us cn neutral\nquorum all-of\n")
    )
    assert [str(vk) for vk, _ in policy.logs] == [str(LOG.vkey())]
    assert policy.logs[0][1] == "https://us.example"
    assert set(policy.witnesses) == {"us", "cn", "a", "b"}
    assert policy.groups["neutral"].threshold == 1 and policy.groups["all-of"].threshold == 3
    assert policy.quorum == "all-of"


@pytest.mark.parametrize(
    ("rest", "met", "unmet"),
    [
        (
            "group neutral any a b\ngroup all-of all us cn neutral\nquorum all-of\n",
            [{"us", "cn", "a"}, {"us", "cn", "b"}, {"us", "cn", "a", "b"}],
            [set(), {"us", "cn"}, {"us", "a", "b"}, {"cn", "a"}, {"a", "b"}],
        ),
        ("group two 2 us cn a\nquorum two\n", [{"us", "cn"}, {"cn", "a"}, {"us", "cn", "a"}], [set(), {"us"}, {"b"}]),
        ("group one any us cn\nquorum one\n", [{"us"}, {"cn"}], [set(), {"a", "b"}]),
        ("quorum cn\n", [{"cn"}, {"cn", "us"}], [set(), {"us", "a", "b"}]),  # a witness as the quorum
        ("group three 3 us cn a b\nquorum three\n", [{"us", "cn", "b"}], [{"us", "cn"}, {"a", "b"}]),
    ],
)
def test_the_quorum_is_met_only_by_enough_cosigners(rest: str, met: list[set[str]], unmet: list[set[str]]) -> None:
    policy = parse_policy(_policy(rest))
    for cosigned in met:
        policy.check(cosigned)
    for cosigned in unmet:
        with pytest.raises(VerificationError, match="not met"):
            policy.check(cosigned)


def test_quorum_none_needs_no_cosigner() -> None:
    policy = parse_policy(_policy("quorum none\n"))
    assert policy.quorum is None
    policy.check([])


LOG_VKEY = str(LOG.vkey())
US_COSIGNER = str(US.cosigner_vkey())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # log lines
        ("log\nquorum none\n", "cannot read"),
        (f"log {LOG_VKEY} https://a https://b\nquorum none\n", "cannot read"),
        ("log not-a-key\nquorum none\n", "line 1"),
        # witness lines
        ("witness us\nquorum none\n", "cannot read"),
        (f"witness us {US_COSIGNER} https://a extra\nquorum none\n", "cannot read"),
        (f"witness us {US_COSIGNER}\nwitness us {CN.cosigner_vkey()}\nquorum none\n", "defined twice"),
        (f"witness us {LOG_VKEY}\nquorum none\n", "needs a cosigner key"),
        ("witness us garbage\nquorum none\n", "line 1"),
        # group lines
        (f"witness us {US_COSIGNER}\ngroup g any\nquorum none\n", "cannot read"),
        (f"witness us {US_COSIGNER}\ngroup us any us\nquorum none\n", "defined twice"),
        (f"witness us {US_COSIGNER}\ngroup g any us\ngroup g all us\nquorum none\n", "defined twice"),
        (f"witness us {US_COSIGNER}\ngroup g any us cn\nquorum none\n", "unknown member 'cn'"),
        (f"witness us {US_COSIGNER}\ngroup g any later\ngroup later any us\nquorum none\n", "unknown member"),
        (f"witness us {US_COSIGNER}\ngroup g 0 us\nquorum none\n", "threshold '0'"),
        (f"witness us {US_COSIGNER}\ngroup g 2 us\nquorum none\n", "threshold '2'"),
        (f"witness us {US_COSIGNER}\ngroup g -1 us\nquorum none\n", "threshold '-1'"),
        (f"witness us {US_COSIGNER}\ngroup g some us\nquorum none\n", "threshold 'some'"),
        # quorum lines
        ("", "no quorum line"),
        ("# only a comment\n\n", "no quorum line"),
        ("quorum\n", "cannot read"),
        ("quorum a b\n", "cannot read"),
        ("quorum none\nquorum none\n", "line 2: cannot read"),
        ("quorum nobody\n", "quorum names unknown 'nobody'"),
        # anything else
        ("witnesses us x\nquorum none\n", "cannot read"),
    ],
)
def test_each_malformed_form_is_refused(text: str, message: str) -> None:
    with pytest.raises(MalformedPolicy, match=message):
        parse_policy(text)


def test_comments_and_blank_lines_are_ignored() -> None:
    policy = parse_policy(f"# a policy\n\nwitness us {US_COSIGNER}  # trailing\n   \nquorum us # us alone\n")
    assert policy.quorum == "us" and set(policy.witnesses) == {"us"}


def test_urls_are_optional_and_kept() -> None:
    policy = parse_policy(
        f"log {LOG_VKEY}\nwitness us {US_COSIGNER} https://us.witness.example\nwitness cn {CN.cosigner_vkey()}\nquorum us\n"
    )
    assert policy.logs == [(LOG.vkey(), None)]
    assert policy.witnesses["us"] == (US.cosigner_vkey(), "https://us.witness.example")
    assert policy.witnesses["cn"] == (CN.cosigner_vkey(), None)


def test_an_unreadable_line_is_quoted_up_to_60_characters() -> None:
    line = "nonsense " + "x" * 80
    with pytest.raises(MalformedPolicy) as err:
        parse_policy(f"quorum none\n{line}\n")
    assert err.value.message == f"line 2: cannot read {line[:60]!r}"


def test_groups_are_immutable() -> None:
    group = parse_policy(_policy("group g any us\nquorum g\n")).groups["g"]
    assert (group.name, group.threshold, group.members) == ("g", 1, ("us",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        group.threshold = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    "line",
    [
        "frobnicate x any us",  # a word that sorts before "group", with a group's arguments
        "nonsense x",  # ... before "quorum", with a quorum's
        "abc x",
    ],
)
def test_only_the_four_keywords_are_read(line: str) -> None:
    with pytest.raises(MalformedPolicy, match="line 2: cannot read"):
        parse_policy(f"witness us {US_COSIGNER}\n{line}\nquorum none\n")


@pytest.mark.parametrize("k", ["1" * 5000, "9" * 6, "٣"])
def test_a_threshold_must_be_a_small_ascii_number(k: str) -> None:
    with pytest.raises(MalformedPolicy, match="threshold"):
        parse_policy(f"witness us {US_COSIGNER}\ngroup g {k} us\nquorum none\n")


def test_the_unmet_quorum_says_who_cosigned() -> None:
    policy = parse_policy(_policy("group two 2 us cn a\nquorum two\n"))
    with pytest.raises(VerificationError, match=r"quorum 'two' not met \(cosigned by: none\)") as err:
        policy.check([])
    assert err.value.hint
    with pytest.raises(VerificationError, match=r"\(cosigned by: b, us\)"):
        policy.check(["us", "b"])


def test_a_witness_needs_a_cosigner_key_not_another_type() -> None:
    import hashlib

    from detente.crypto.keys import SIG_COSIGNATURE_V1, SIG_RFC6962, VerifierKey, key_id

    key = US.cosigner_vkey()
    assert key.sig_type == SIG_COSIGNATURE_V1
    spki = b"an RFC 6962 log's public key"
    rfc6962 = VerifierKey(key.name, key_id(key.name, SIG_RFC6962, hashlib.sha256(spki).digest()), SIG_RFC6962, spki)
    with pytest.raises(MalformedPolicy, match="needs a cosigner key"):
        parse_policy(f"witness us {rfc6962}\nquorum none\n")
