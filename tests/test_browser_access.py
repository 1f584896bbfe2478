"""Who did what on a shared dashboard (issue 12), in a real browser: the trusted-proxy mode.

The dashboard runs with [dashboard] auth = "proxy" on 127.0.0.1. An authenticating proxy
(oauth2-proxy, say) would sign the user in and pass them on with X-Forwarded-Email; here the
browser context sends that header itself, exactly as the proxy would hand it to the
dashboard, one context per person (Playwright's extra_http_headers reach the page and its
websocket, which is where Streamlit reads them). Checked: nobody gets in without the header,
a stranger is turned away, a viewer sees but cannot write, and an editor's flag and upload
are recorded under the signed-in user, not a name typed into a form.
"""

from __future__ import annotations

import contextlib
import json
import shutil

import pytest
from click.testing import CliRunner
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    assert_no_error,
    dashboard_server,
    flag_in_browser,
    require_chromium,
    sample_db,  # noqa: F401 (the fixture: the sample fleet, loaded once)
    screenshot,
    settle,
    upload_in_browser,
)

from tierwatch.ingest import flags
from tierwatch.ingest.store import open_store

CONFIG = """
[dashboard]
auth = "proxy"
user_header = "X-Forwarded-Email"
editors = ["ana@example.com"]
viewers = ["*@example.com"]
"""


@contextlib.contextmanager
def as_user(email: str | None):
    """A browser page whose every request carries the proxy's header for `email`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            headers = {"X-Forwarded-Email": email} if email else {}
            context = browser.new_context(
                viewport={"width": 1400, "height": 900}, extra_http_headers=headers
            )
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def _shown(text: str) -> str:
    """Text as a person reads it: without the invisible word joiners that keep e-mail
    addresses from becoming mailto: links (dashboard/text.py)."""
    return text.replace("\u2060", "")


def _sidebar(page) -> str:
    return _shown(page.locator('[data-testid="stSidebar"]').inner_text())


def _gate(page) -> str:
    page.wait_for_selector('[data-testid="stMain"] h1')
    page.wait_for_timeout(1500)
    return _shown(page.locator('[data-testid="stMain"]').inner_text())


def test_a_proxy_signed_dashboard_knows_who_did_what(sample_db, tmp_path):  # noqa: F811
    require_chromium()
    db = tmp_path / "team.duckdb"
    shutil.copy(sample_db, db)
    config = tmp_path / "tierwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    upload = tmp_path / "ana.jsonl"
    upload.write_text(
        json.dumps(
            {
                "task_id": "ana-1",
                "ts": "2026-09-10T09:00:00Z",
                "task_type": "ana_type",
                "tier": "haiku",
                "input_tokens": 10,
                "output_tokens": 1,
            }
        )  # fmt: skip
        + "\n",
        encoding="utf-8",
    )
    with dashboard_server(db, "--config", str(config)) as url:
        # straight to the port, no proxy in between: no header, no page
        with as_user(None) as page:
            page.goto(f"{url}/")
            text = _gate(page)
            assert "Not signed in" in text and "X-Forwarded-Email" in text
            assert page.get_by_role("link", name="Planner tiers").count() == 0
            screenshot(page, "access-not-signed-in")

        # signed in, but neither an editor nor a viewer
        with as_user("eve@elsewhere.example") as page:
            page.goto(f"{url}/")
            text = _gate(page)
            assert "Signed in as eve@elsewhere.example" in text
            assert "lets in only its editors and viewers" in text

        # a viewer: every page, no way to write
        with as_user("bo@example.com") as page:
            page.goto(f"{url}/retiering")
            settle(page)
            assert_no_error(page)
            assert "Signed in as bo@example.com (viewer)" in _sidebar(page)
            assert page.get_by_role("button", name="Flag").count() == 0
            assert page.get_by_role("link", name="Upload").count() == 0
            screenshot(page, "access-viewer")

        # the editor: the flag is signed by who signed in; there is no name to type
        with as_user("ana@example.com") as page:
            page.goto(f"{url}/retiering")
            settle(page)
            assert "Signed in as ana@example.com (editor)" in _sidebar(page)
            assert page.get_by_label("Your name").count() == 0
            flag_in_browser(page, "html_extraction", "opus")
            page.get_by_role("button", name="Flag").click()
            page.locator('[data-testid="stAlertContentSuccess"]').wait_for()
            screenshot(page, "access-editor-flagged")

            upload_in_browser(page, url, upload)

    with open_store(db) as con:
        flag = flags.current_flags(con)["html_extraction"]
        (loaded_by,) = con.execute(
            "select loaded_by from ingested_files where path = 'ana.jsonl'"
        ).fetchone()
    assert (flag.target_tier, flag.flagged_by) == ("opus", "ana@example.com")
    assert loaded_by == "ana@example.com"


def test_proxy_mode_refuses_to_listen_beyond_loopback(tmp_path):
    """Trusting a header is safe only when the proxy is the one way in."""
    from tierwatch.cli.main import main

    config = tmp_path / "tierwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "dashboard",
            "--db",
            str(tmp_path / "x.duckdb"),
            "--config",
            str(config),
            "--address",
            "0.0.0.0",
        ],  # fmt: skip
    )
    assert result.exit_code == 2
    assert "listen on 127.0.0.1" in result.output


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('auth = "ldap"', "auth is 'ldap', must be one of none, proxy, oidc"),
        ('auth = "proxy"\nuser_header = "X Forwarded"', "give an HTTP header name"),
        ('auth = "proxy"\neditors = "ana"', "editors must be a list"),
        ('auth = "proxy"\neditors = []\nviewers = []', "lets nobody in"),
        ("admins = []", "unknown key 'admins'"),
    ],
)
def test_a_bad_dashboard_section_is_named(tmp_path, section, message):
    from tierwatch.ingest.config import ConfigError, load_config

    config = tmp_path / "tierwatch.toml"
    config.write_text(f"[dashboard]\n{section}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(config)


def test_roles_from_globs():
    from tierwatch.ingest.config import Access

    access = Access("proxy", editors=("ana@example.com", "*@ops.example.com"),
                    viewers=("*@example.com",))  # fmt: skip
    assert access.role("Ana@Example.com") == "editor"  # e-mail addresses ignore case
    assert access.role("li@ops.example.com") == "editor"
    assert access.role("bo@example.com") == "viewer"
    assert access.role("eve@example.com.evil") is None
    assert access.role(None) is None


OIDC_CONFIG = """
[dashboard]
auth = "oidc"
editors = ["ana@example.com"]
viewers = ["*@example.com"]
"""


def test_an_oidc_signed_dashboard_signs_in_through_the_provider(sample_db, tmp_path, monkeypatch):  # noqa: F811
    """Streamlit's own OpenID Connect sign-in (st.login) against a provider simulated on
    127.0.0.1 (tests/oidc_provider.py: discovery, authorize, token with an RS256 ID token,
    JWKS). Its endpoints are plain http, which Authlib allows only with
    AUTHLIB_INSECURE_TRANSPORT set: for this test only."""
    from oidc_provider import Provider

    require_chromium()
    db = tmp_path / "team.duckdb"
    shutil.copy(sample_db, db)
    config = tmp_path / "tierwatch.toml"
    config.write_text(OIDC_CONFIG, encoding="utf-8")
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with Provider() as provider:
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text(provider.secrets_toml())
        with dashboard_server(db, "--config", str(config)) as url, as_user(None) as page:
            page.goto(f"{url}/")
            assert "Sign in to see this dashboard" in _gate(page)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{url}/**", timeout=30_000)
            settle(page)
            assert_no_error(page)
            assert "Signed in as ana@example.com (editor)" in _sidebar(page)
            assert {"/authorize", "/token", "/jwks"} <= set(provider.requests)
            screenshot(page, "access-oidc-signed-in")

            page.goto(f"{url}/retiering")
            settle(page)
            flag_in_browser(page, "status_check", "sonnet")
            page.get_by_role("button", name="Flag").click()
            page.locator('[data-testid="stAlertContentSuccess"]').wait_for()

            # signing out ends the session: the gate again
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_timeout(3000)
            page.goto(f"{url}/")
            assert "Sign in to see this dashboard" in _gate(page)
    with open_store(db) as con:
        flag = flags.current_flags(con)["status_check"]
    assert (flag.target_tier, flag.flagged_by) == ("sonnet", "ana@example.com")
