"""A simulated OpenID Connect provider for the browser tests, on 127.0.0.1.

Just enough of the authorization-code flow for Streamlit's `st.login` (Authlib's client):
discovery (`/.well-known/openid-configuration`), `/authorize` (no login form: it signs in
whoever `Provider.user` names and redirects straight back with a code and the client's
state), `/token` (an RS256 ID token with the issuer, audience, nonce and e-mail the client
checks), `/jwks` (the public key) and `/userinfo`. Every request is logged in
`Provider.requests`, so a test can see that the dashboard really went through it.
"""

from __future__ import annotations

import http.server
import json
import secrets
import threading
import time
import urllib.parse

from joserfc import jwt
from joserfc.jwk import RSAKey


class Provider:
    def __init__(self, client_id: str = "tierwatch", client_secret: str = "test-secret"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.user = "ana@example.com"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.codes: dict[str, dict] = {}
        self.requests: list[str] = []
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                url = urllib.parse.urlparse(self.path)
                provider.requests.append(url.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    return self._json(provider.metadata())
                if url.path == "/jwks":
                    return self._json({"keys": [provider.key.as_dict(private=False)]})
                if url.path == "/authorize":
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {"nonce": query.get("nonce"), "user": provider.user}
                    back = {"code": code, "state": query.get("state", "")}
                    self.send_response(302)
                    self.send_header(
                        "Location", query["redirect_uri"] + "?" + urllib.parse.urlencode(back)
                    )
                    self.end_headers()
                    return None
                if url.path == "/userinfo":
                    return self._json({"sub": provider.user, "email": provider.user})
                return self._json({"error": "not_found"}, 404)

            def do_POST(self):  # noqa: N802
                url = urllib.parse.urlparse(self.path)
                provider.requests.append(url.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if url.path != "/token" or form.get("code") not in provider.codes:
                    return self._json({"error": "invalid_grant"}, 400)
                grant = provider.codes.pop(form["code"])
                now = int(time.time())
                claims = {
                    "iss": provider.issuer,
                    "sub": grant["user"],
                    "aud": provider.client_id,
                    "email": grant["user"],
                    "email_verified": True,
                    "iat": now,
                    "exp": now + 3600,
                }
                if grant["nonce"]:
                    claims["nonce"] = grant["nonce"]
                token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, provider.key)
                return self._json(
                    {
                        "access_token": secrets.token_urlsafe(16),
                        "token_type": "Bearer",
                        "expires_in": 3600,
                        "id_token": token,
                    }
                )

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def metadata(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def secrets_toml(self) -> str:
        """Streamlit's [auth] section for this provider (redirect back to the app's port)."""
        return (
            "[auth]\n"
            'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            f'client_id = "{self.client_id}"\n'
            f'client_secret = "{self.client_secret}"\n'
            f'server_metadata_url = "{self.issuer}/.well-known/openid-configuration"\n'
        )

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
