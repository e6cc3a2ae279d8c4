"""The client_credentials token endpoint's parsing, scoping and metadata; client secrets."""

from __future__ import annotations

import base64

import pytest

from auth.oauth import (
    OAuthError,
    TokenRequest,
    authorization_server_metadata,
    narrow_scope,
    parse_token_request,
    token_response,
)
from auth.permissions import Permission
from auth.secrets import (
    check_secret,
    equalize_timing,
    hash_secret,
    hashing_key,
    new_client_secret,
    verify_secret,
)

GRANT = {"grant_type": "client_credentials"}


def _basic(raw_id: str, raw_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{raw_id}:{raw_secret}".encode()).decode()


def _error(header: str | None, form: dict[str, str]) -> OAuthError:
    with pytest.raises(OAuthError) as info:
        parse_token_request(header, form)
    return info.value


# --- secrets ---------------------------------------------------------------


def test_new_client_secret_is_long_and_url_safe() -> None:
    secret = new_client_secret()
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) >= 32
    assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert new_client_secret() != secret


def test_hash_and_verify_secret() -> None:
    secret = new_client_secret()
    stored = hash_secret(secret)
    parts = stored.split("$")
    assert parts[:4] == ["scrypt", str(2**14), "8", "1"]
    assert len(parts) == 6
    assert secret not in stored
    assert hash_secret(secret) != stored  # random salt
    assert verify_secret(secret, stored) is True
    assert verify_secret(secret + "x", stored) is False
    assert verify_secret("", stored) is False
    assert verify_secret("caf\u00e9 \U0001f600", hash_secret("caf\u00e9 \U0001f600")) is True


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext",
        "scrypt$16384$8$1$salt",
        "bcrypt$16384$8$1$c2FsdA$aGFzaA",
        "scrypt$abc$8$1$c2FsdA$aGFzaA",
        "scrypt$1000$8$1$c2FsdA$aGFzaA",  # n not a power of two
        "scrypt$1073741824$8$1$c2FsdA$aGFzaA",  # n too large
        "scrypt$16384$8$1$$" + "A" * 43,  # empty salt
        "scrypt$16384$8$1$c2FsdA$aGFzaA",  # hash too short
        "scrypt$16384$8$1$c2FsdA$!!!notbase64!!!",
        "scrypt$16384$8$1$c2FsdA$" + "A" * 43 + "$extra",
    ],
)
def test_verify_secret_false_on_malformed_stored(stored: str) -> None:
    assert verify_secret("anything", stored) is False


KEY = hashing_key(b"\x01" * 32)


def test_keyed_hash_verifies_and_is_deterministic_under_one_key() -> None:
    secret = new_client_secret()
    stored = hash_secret(secret, KEY)
    assert stored.startswith("hmac-sha256$") and secret not in stored
    assert hash_secret(secret, KEY) == stored
    assert check_secret(secret, stored, KEY).ok is True
    assert check_secret(secret, stored, KEY).rehash is None
    assert check_secret(secret + "x", stored, KEY).ok is False
    assert check_secret(secret, stored, None).ok is False  # no key: nothing matches
    other = hashing_key(b"\x02" * 32)
    assert check_secret(secret, stored, other).ok is False
    assert check_secret("\udcff", stored, KEY).ok is False


def test_legacy_scrypt_hash_still_verifies_and_asks_for_a_rehash() -> None:
    secret = new_client_secret()
    legacy = hash_secret(secret)
    verdict = check_secret(secret, legacy, KEY)
    assert verdict.ok is True and verdict.rehash is not None
    assert verdict.rehash.startswith("hmac-sha256$")
    assert check_secret(secret, verdict.rehash, KEY).ok is True
    assert check_secret(secret + "x", legacy, KEY) == check_secret("", legacy, KEY)
    assert check_secret(secret + "x", legacy, KEY).ok is False


def test_verify_secret_false_on_bad_input_types() -> None:
    stored = hash_secret("s")
    assert verify_secret("\udcff", stored) is False
    assert verify_secret("s", None) is False  # type: ignore[arg-type]
    equalize_timing("\udcff")  # must not raise


# --- parse_token_request ---------------------------------------------------


def test_basic_credentials_with_percent_encoding() -> None:
    header = _basic("app%3Aone", "p%40ss%3Aw%2Bord+x%25")
    req = parse_token_request(header, {**GRANT, "scope": "stock:read"})
    assert req == TokenRequest("app:one", "p@ss:w+ord x%", "stock:read", used_basic=True)


def test_basic_scheme_is_case_insensitive_and_secret_may_contain_colon() -> None:
    req = parse_token_request(_basic("app", "a:b"), GRANT).client_secret
    assert req == "a:b"
    assert parse_token_request("basic " + _basic("app", "s")[6:], GRANT).client_id == "app"


def test_form_credentials() -> None:
    form = {**GRANT, "client_id": "app-1", "client_secret": "s3cret"}
    assert parse_token_request(None, form) == TokenRequest("app-1", "s3cret", None, False)
    assert parse_token_request("", form).used_basic is False


def test_basic_with_matching_form_client_id_is_allowed() -> None:
    req = parse_token_request(_basic("app", "s"), {**GRANT, "client_id": "app"})
    assert (req.client_id, req.used_basic) == ("app", True)
    err = _error(_basic("app", "s"), {**GRANT, "client_id": "other"})
    assert err.error == "invalid_request"


def test_both_methods_is_invalid_request() -> None:
    form = {**GRANT, "client_id": "app", "client_secret": "s"}
    err = _error(_basic("app", "s"), form)
    assert (err.error, err.status_code) == ("invalid_request", 400)
    assert "WWW-Authenticate" not in err.headers()


def test_no_credentials_is_invalid_client_without_challenge() -> None:
    for form in (GRANT, {**GRANT, "client_id": "app"}, {**GRANT, "client_secret": "s"}):
        err = _error(None, form)
        assert (err.error, err.status_code) == ("invalid_client", 401)
        assert "WWW-Authenticate" not in err.headers()
        assert err.headers()["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b":secret-only").decode(),
        "Basic " + base64.b64encode(b"id-only:").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic",
        "Bearer abc.def.ghi",
    ],
)
def test_bad_authorization_header_is_invalid_client_with_challenge(header: str) -> None:
    err = _error(header, GRANT)
    assert (err.error, err.status_code) == ("invalid_client", 401)
    assert err.headers()["WWW-Authenticate"] == 'Basic realm="stockgraph"'
    assert err.body() == {"error": "invalid_client", "error_description": err.description}


def test_grant_type_missing_or_wrong() -> None:
    form = {"client_id": "app", "client_secret": "s"}
    assert _error(None, form).error == "invalid_request"
    assert _error(None, {**form, "grant_type": ""}).error == "invalid_request"
    for grant in ("password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"):
        err = _error(_basic("app", "s"), {"grant_type": grant})
        assert (err.error, err.status_code) == ("unsupported_grant_type", 400)


def test_repeated_parameter_is_invalid_request() -> None:
    class MultiDict(dict[str, str]):
        def getlist(self, key: str) -> list[str]:
            return ["stock:read", "admin"] if key == "scope" else [self[key]] if key in self else []

    form = MultiDict({**GRANT, "scope": "stock:read"})
    assert _error(_basic("app", "s"), form).error == "invalid_request"


def test_empty_scope_is_none() -> None:
    assert parse_token_request(_basic("a", "s"), {**GRANT, "scope": ""}).scope is None


# --- narrow_scope ----------------------------------------------------------

GRANTED = frozenset({Permission.STOCK_READ, Permission.STOCK_WRITE, Permission.COSTS_READ})


def test_narrow_scope_defaults_to_everything_granted() -> None:
    assert narrow_scope(None, GRANTED) == GRANTED
    assert narrow_scope("", GRANTED) == GRANTED
    assert narrow_scope("   ", GRANTED) == GRANTED


def test_narrow_scope_subset() -> None:
    assert narrow_scope("stock:read", GRANTED) == frozenset({Permission.STOCK_READ})
    got = narrow_scope("costs:read  stock:read stock:read", GRANTED)
    assert got == frozenset({Permission.STOCK_READ, Permission.COSTS_READ})


@pytest.mark.parametrize("requested", ["admin", "stock:read admin", "stock:delete", "STOCK:READ"])
def test_narrow_scope_rejects_ungranted_or_unknown(requested: str) -> None:
    with pytest.raises(OAuthError) as info:
        narrow_scope(requested, GRANTED)
    assert (info.value.error, info.value.status_code) == ("invalid_scope", 400)


# --- metadata and response -------------------------------------------------


def test_authorization_server_metadata() -> None:
    meta = authorization_server_metadata("https://auth.test", "https://api.test/")
    assert meta["issuer"] == "https://auth.test"
    assert meta["token_endpoint"] == "https://api.test/oauth/token"
    assert meta["jwks_uri"] == "https://api.test/.well-known/jwks.json"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert meta["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert sorted(meta["scopes_supported"]) == sorted(p.value for p in Permission)
    assert "members:pii" in meta["scopes_supported"]
    assert meta["response_types_supported"] == []


def test_token_response() -> None:
    body = token_response("tok", 900, frozenset({Permission.STOCK_WRITE, Permission.ADMIN}))
    assert body == {
        "access_token": "tok",
        "token_type": "Bearer",
        "expires_in": 900,
        "scope": "admin stock:write",
    }
