"""The sign-in's settings: defaults, validation that names the variable, the provider's issuers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.settings import Settings, describe_validation_error
from api.users.oidc import OidcSignIn, discovery_url


def test_google_is_the_default_provider_and_nothing_is_configured():
    settings = Settings(_env_file=None)
    assert (settings.oidc_issuer, settings.oidc_provider_name) == ("https://accounts.google.com", "GOOGLE")
    assert settings.oidc_client_id is None and settings.oidc_client_secret is None


def test_empty_credentials_mean_not_configured(monkeypatch):
    monkeypatch.setenv("OIDC_CLIENT_ID", "")
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "")
    settings = Settings(_env_file=None)
    assert settings.oidc_client_id is None and settings.oidc_client_secret is None


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"oidc_issuer": "accounts.google.com"}, "OIDC_ISSUER"),
        ({"oidc_redirect_url": "peerprep.example.com/auth/oauth-success"}, "OIDC_REDIRECT_URL"),
        ({"oidc_client_id": "only-the-id"}, "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set together"),
        ({"oidc_client_secret": "only-the-secret"}, "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set together"),
        ({"oidc_provider_name": "X" * 33}, "OIDC_PROVIDER_NAME"),
        ({"oidc_timeout_seconds": 0}, "OIDC_TIMEOUT_SECONDS"),
        ({"oidc_clock_skew_seconds": -1}, "OIDC_CLOCK_SKEW_SECONDS"),
        ({"oidc_login_ttl_seconds": 0}, "OIDC_LOGIN_TTL_SECONDS"),
    ],
)
def test_a_bad_oidc_setting_is_named(values, named):
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **values)
    assert named in describe_validation_error(caught.value)


def test_google_id_tokens_may_name_their_issuer_without_the_scheme():
    google = OidcSignIn(Settings(_env_file=None, oidc_client_id="id", oidc_client_secret="secret"))
    other = OidcSignIn(
        Settings(_env_file=None, oidc_issuer="https://id.example.com/", oidc_client_id="id", oidc_client_secret="s")
    )
    assert google.token_issuers == ["https://accounts.google.com", "accounts.google.com"]
    assert other.token_issuers == ["https://id.example.com/"]
    assert discovery_url(other.issuer) == "https://id.example.com/.well-known/openid-configuration"
