"""Sealing secrets with AES-GCM bound to client, owner, field and key id; keys and key files."""

import base64
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from callout.db.crypto import (
    Binding,
    KeyMaterialError,
    Keyring,
    Sealed,
    generate_entry,
    parse_keys,
    write_key_file,
)
from callout.errors import SecretUnreadable
from callout.settings import Settings
from tests.factories import SENTINEL

BINDING = Binding(client_id=7, owner="api:12", field="authorization.password")


def key(fill: int) -> bytes:
    return bytes([fill]) * 32


def entry(key_id: str, material: bytes) -> str:
    return f"{key_id}:{base64.b64encode(material).decode()}"


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([("k1", key(1)), ("k2", key(2))])


@pytest.fixture(autouse=True)
def no_key_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings built here must not pick keys, a data dir or an environment from the shell."""
    for name in list(os.environ):
        if name.startswith("CALLOUT_"):
            monkeypatch.delenv(name)


def file_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, secret_keys=None, environment="production")


# Sealing and opening


def test_sealed_secret_opens_to_its_plaintext(keyring: Keyring) -> None:
    sealed = keyring.seal(SENTINEL, BINDING)
    assert sealed.key_id == "k1"
    assert SENTINEL not in sealed.ciphertext
    assert keyring.open(sealed, BINDING) == SENTINEL


def test_sealing_twice_gives_different_ciphertexts(keyring: Keyring) -> None:
    first, second = keyring.seal(SENTINEL, BINDING), keyring.seal(SENTINEL, BINDING)
    assert first.ciphertext != second.ciphertext
    assert keyring.open(second, BINDING) == SENTINEL


def test_first_key_seals_and_every_key_opens() -> None:
    old = Keyring([("k2", key(2))])
    sealed_old = old.seal(SENTINEL, BINDING)
    both = Keyring([("k1", key(1)), ("k2", key(2))])
    assert both.active_id == "k1"
    assert both.key_ids == ["k1", "k2"]
    assert both.open(sealed_old, BINDING) == SENTINEL
    assert both.seal(SENTINEL, BINDING).key_id == "k1"


@pytest.mark.parametrize(
    "elsewhere",
    [
        pytest.param(replace(BINDING, client_id=8), id="another-client"),
        pytest.param(replace(BINDING, owner="api:13"), id="another-api"),
        pytest.param(replace(BINDING, owner="request:12"), id="a-request-with-the-same-id"),
        pytest.param(replace(BINDING, field="authorization.token"), id="another-field"),
    ],
)
def test_secret_opened_anywhere_else_is_unreadable(keyring: Keyring, elsewhere: Binding) -> None:
    sealed = keyring.seal(SENTINEL, BINDING)
    with pytest.raises(SecretUnreadable) as caught:
        keyring.open(sealed, elsewhere)
    assert SENTINEL not in str(caught.value)
    assert SENTINEL not in caught.value.detail
    assert SENTINEL not in repr(caught.value)


def test_secret_relabelled_with_another_key_id_is_unreadable() -> None:
    # The same key material under two ids: only the associated data tells them apart.
    twins = Keyring([("k1", key(1)), ("k2", key(1))])
    sealed = twins.seal(SENTINEL, BINDING)
    with pytest.raises(SecretUnreadable) as caught:
        twins.open(Sealed("k2", sealed.ciphertext), BINDING)
    assert SENTINEL not in str(caught.value)


def test_secret_under_an_unknown_key_id_is_unreadable_and_names_the_key(
    keyring: Keyring,
) -> None:
    sealed = Keyring([("k9", key(9))]).seal(SENTINEL, BINDING)
    with pytest.raises(SecretUnreadable, match="k9") as caught:
        keyring.open(sealed, BINDING)
    assert SENTINEL not in str(caught.value)


def test_secret_opened_with_another_key_is_unreadable() -> None:
    sealed = Keyring([("k1", key(1))]).seal(SENTINEL, BINDING)
    with pytest.raises(SecretUnreadable):
        Keyring([("k1", key(3))]).open(sealed, BINDING)


def flip(ciphertext: str, index: int) -> str:
    raw = bytearray(base64.b64decode(ciphertext))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda c: flip(c, 0), id="nonce"),
        pytest.param(lambda c: flip(c, 14), id="body"),
        pytest.param(lambda c: flip(c, -1), id="tag"),
        pytest.param(lambda c: base64.b64encode(base64.b64decode(c)[:-1]).decode(), id="cut"),
        pytest.param(lambda c: c[:8], id="shorter-than-a-nonce"),
        pytest.param(lambda c: "not base64 at all!", id="not-base64"),
        pytest.param(lambda c: "", id="empty"),
    ],
)
def test_tampered_ciphertext_is_unreadable(keyring: Keyring, tamper: object) -> None:
    sealed = keyring.seal(SENTINEL, BINDING)
    assert callable(tamper)
    with pytest.raises(SecretUnreadable) as caught:
        keyring.open(Sealed(sealed.key_id, tamper(sealed.ciphertext)), BINDING)
    assert SENTINEL not in str(caught.value)


def test_unreadable_secret_names_the_field_not_the_value(keyring: Keyring) -> None:
    sealed = keyring.seal(SENTINEL, BINDING)
    with pytest.raises(SecretUnreadable, match=r"authorization\.token"):
        keyring.open(sealed, replace(BINDING, field="authorization.token"))


# Parsing keys


def test_keys_parse_from_commas_and_lines_first_one_active() -> None:
    text = f"{entry('k1', key(1))}, {entry('k2', key(2))}\n# retired\n\n{entry('k3', key(3))}"
    parsed = parse_keys(text, "CALLOUT_SECRET_KEYS")
    assert parsed == [("k1", key(1)), ("k2", key(2)), ("k3", key(3))]
    assert Keyring(parsed).active_id == "k1"


def test_generated_entry_parses_as_one_fresh_key() -> None:
    first, second = generate_entry(), generate_entry()
    [(key_id, material)] = parse_keys(first, "test")
    assert len(material) == 32
    assert first != second
    assert key_id != parse_keys(second, "test")[0][0]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("k1:not*base64!", r"'k1' is not base64", id="bad-base64"),
        pytest.param(
            entry("k1", b"\x01" * 16), r"'k1' is 16 bytes; AES-256 needs 32", id="too-short"
        ),
        pytest.param(
            entry("k1", b"\x01" * 33), r"'k1' is 33 bytes; AES-256 needs 32", id="too-long"
        ),
        pytest.param(
            f"{entry('k1', key(1))},{entry('k1', key(2))}", "key ids repeat", id="repeated-id"
        ),
        pytest.param("", "no keys", id="empty"),
        pytest.param(" ,\n# only a comment\n", "no keys", id="only-blanks-and-comments"),
        pytest.param(base64.b64encode(key(1)).decode(), "entry 1 is not", id="no-key-id"),
        pytest.param(f":{base64.b64encode(key(1)).decode()}", "entry 1 is not", id="blank-id"),
    ],
)
def test_malformed_keys_are_refused_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(KeyMaterialError, match=problem) as caught:
        parse_keys(text, "CALLOUT_SECRET_KEYS")
    assert str(caught.value).startswith("CALLOUT_SECRET_KEYS: ")


def test_malformed_key_error_does_not_show_the_key_material() -> None:
    material = base64.b64encode(b"\x07" * 16).decode()
    with pytest.raises(KeyMaterialError) as caught:
        parse_keys(f"k1:{material}", "keys")
    assert material not in str(caught.value)


# Key sources


def test_key_file_is_created_by_init_with_owner_only_mode_and_reused(
    tmp_path: Path,
) -> None:
    settings = file_settings(tmp_path / "data")
    assert not settings.key_file.exists()
    first = settings.key_source(create=True).keyring()

    assert settings.key_file.exists()
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    written = settings.key_file.read_text()
    assert parse_keys(written, "file")[0][0] == first.active_id

    sealed = first.seal(SENTINEL, BINDING)
    again = file_settings(tmp_path / "data").key_source().keyring()
    assert again.active_id == first.active_id
    assert settings.key_file.read_text() == written
    assert again.open(sealed, BINDING) == SENTINEL


def test_key_source_prefers_the_environment_and_writes_no_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_keys=SecretStr(entry("env1", key(5))))
    keys = settings.key_source()
    assert not keys.file_based
    assert keys.keyring().active_id == "env1"
    assert not settings.key_file.exists()


def test_malformed_environment_keys_fail_at_start_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(
        ValidationError, match="CALLOUT_SECRET_KEYS: key 'k1' is not base64"
    ) as caught:
        Settings(data_dir=tmp_path, secret_keys=SecretStr("k1:short"))
    assert "short" not in str(caught.value)


def test_a_missing_key_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    settings = file_settings(tmp_path / "data")
    with pytest.raises(KeyMaterialError, match="callout init"):
        settings.key_source().keyring()
    assert not settings.key_file.exists()


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    settings = file_settings(tmp_path / "data")
    settings.key_source(create=True).keyring()
    settings.key_file.chmod(0o644)
    with pytest.raises(KeyMaterialError, match="chmod 600"):
        settings.key_source().keyring()


def test_keys_added_at_the_same_time_are_all_kept(tmp_path: Path) -> None:
    settings = file_settings(tmp_path / "data")
    first = settings.key_source(create=True).keyring().active_id
    with ThreadPoolExecutor(max_workers=8) as pool:
        added = list(pool.map(lambda _: settings.key_source().add_key(), range(16)))
    kept = settings.key_source().keyring().key_ids
    assert sorted(kept) == sorted([*added, first])


def test_added_key_seals_and_keeps_the_old_ones(tmp_path: Path) -> None:
    settings = file_settings(tmp_path / "data")
    keys = settings.key_source(create=True)
    old = keys.keyring()
    sealed_old = old.seal(SENTINEL, BINDING)

    new_id = keys.add_key()

    fresh = keys.keyring()
    assert new_id != old.active_id
    assert fresh.active_id == new_id
    assert fresh.key_ids == [new_id, old.active_id]
    assert fresh.open(sealed_old, BINDING) == SENTINEL
    assert fresh.seal(SENTINEL, BINDING).key_id == new_id
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600


def test_running_server_picks_up_a_key_added_elsewhere_without_restart(tmp_path: Path) -> None:
    server = file_settings(tmp_path / "data").key_source(create=True)
    before = server.keyring()

    new_id = file_settings(tmp_path / "data").key_source().add_key()  # as `callout keys rotate`

    after = server.keyring()
    assert after.active_id == new_id != before.active_id
    sealed_new = after.seal(SENTINEL, BINDING)
    assert sealed_new.key_id == new_id
    assert file_settings(tmp_path / "data").key_source().keyring().open(sealed_new, BINDING) == (
        SENTINEL
    )


def test_running_server_picks_up_a_rewritten_key_file(tmp_path: Path) -> None:
    settings = file_settings(tmp_path / "data")
    server = settings.key_source(create=True)
    server.keyring()
    write_key_file(settings.key_file, [entry("hand", key(4))])
    assert server.keyring().active_id == "hand"
    assert server.keyring().key_ids == ["hand"]


def test_key_file_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    keys = file_settings(tmp_path / "data").key_source(create=True)
    keys.keyring()
    keys.add_key()
    names = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert names == ["secret-keys", "secret-keys.lock"]


# Settings


@pytest.mark.parametrize("placeholder", ["changethis", "CHANGEME", "change-me", "secret"])
def test_placeholder_key_is_refused_outside_development(placeholder: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(secret_keys=SecretStr(f"k1:{placeholder}"), environment="production")
    message = str(caught.value)
    assert "placeholder" in message
    assert "callout keys generate" in message
    assert "CALLOUT_ENVIRONMENT=development" in message


def test_placeholder_key_is_refused_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CALLOUT_SECRET_KEYS", f"{generate_entry()},k1:changethis")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings()


def test_placeholder_key_is_accepted_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLOUT_SECRET_KEYS", "k1:changethis")
    monkeypatch.setenv("CALLOUT_ENVIRONMENT", "development")
    settings = Settings()
    assert settings.environment == "development"
    keyring = settings.key_source().keyring()
    assert keyring.active_id == "k1"
    assert keyring.open(keyring.seal(SENTINEL, BINDING), BINDING) == SENTINEL


def test_real_key_is_accepted_in_production() -> None:
    line = generate_entry()
    settings = Settings(secret_keys=SecretStr(line), environment="production")
    assert settings.secret_keys is not None
    assert line not in repr(settings)
