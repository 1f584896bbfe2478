"""Who is looking, and what they may do: the [dashboard] section of tierwatch.toml as a
visitor for each session (docs/deploy.md).

- auth "none": no sign-in. Everyone is an editor, unless the dashboard is read-only; the
  sidebar says the dashboard is open to anyone who can reach it.
- auth "proxy": an authenticating proxy in front (oauth2-proxy, an identity-aware load
  balancer) puts the signed-in user in `user_header`; the dashboard trusts that header
  because the config says so, and only then. A request without it is turned away.
- auth "oidc": Streamlit's own OpenID Connect sign-in (`st.login`, `st.user`), with the
  provider in `.streamlit/secrets.toml` ([auth]).

The role comes from `editors` and `viewers` (globs over the user). Every write path of
the dashboard asks `can_write()` (through connection.refuse_if_read_only); a flag and an upload
record the signed-in user, not a name typed into a form.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from tierwatch.ingest.config import Access

KEY = "_tierwatch_visitor"


@dataclasses.dataclass(frozen=True)
class Visitor:
    user: str | None  # as signed in; None without sign-in
    role: str  # "editor" or "viewer"
    how: str  # "none", "proxy" or "oidc"

    @property
    def can_write(self) -> bool:
        return self.role == "editor"


@dataclasses.dataclass(frozen=True)
class TurnedAway:
    """Why this visitor sees no page, and what to do."""

    message: str
    user: str | None = None
    sign_in: bool = False  # offer the OIDC sign-in button


def _oidc_user() -> str | None:
    if not st.user.is_logged_in:
        return None
    return st.user.get("email") or st.user.get("preferred_username") or st.user.get("sub")


def identify(access: Access, read_only: bool) -> Visitor | TurnedAway:
    """The visitor of this session, or why there is none."""
    if access.auth == "none":
        return Visitor(None, "viewer" if read_only else "editor", "none")
    if access.auth == "proxy":
        user = (st.context.headers.get(access.user_header) or "").strip() or None
        if user is None:
            return TurnedAway(
                f"Not signed in. This dashboard takes who you are from the "
                f"{access.user_header} header that its sign-in proxy sets, and this request "
                "had none: open it through the team's proxy, not directly."
            )
    else:
        user = _oidc_user()
        if user is None:
            return TurnedAway("Sign in to see this dashboard.", sign_in=True)
    role = access.role(user)
    if role is None:
        return TurnedAway(
            "You are signed in, but this dashboard lets in only its editors and viewers "
            "([dashboard] in tierwatch.toml); ask whoever runs it to add you.",
            user=user,
        )
    return Visitor(user, "viewer" if read_only else role, access.auth)


def remember(visitor: Visitor) -> None:
    st.session_state[KEY] = visitor


def current() -> Visitor | None:
    """This session's visitor (None outside a page run, e.g. a script calling writes.*)."""
    try:
        return st.session_state.get(KEY)
    except Exception:  # no Streamlit session at all
        return None


def can_write(access: Access) -> bool:
    """Whether this session may write: a signed-in editor, or anyone without sign-in."""
    visitor = current()
    if visitor is not None:
        return visitor.can_write
    return access.auth == "none"  # no session: only an open dashboard lets a caller write


def signed_in_user() -> str | None:
    visitor = current()
    return visitor.user if visitor is not None else None
