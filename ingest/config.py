"""The tier ladder, prices and settings of a fleet: `tierwatch.toml`, validated.

Without a config file the built-in defaults equal the article's: Haiku < Sonnet < Opus
at $0.80/$4, $3/$15 and $15/$75 per million input/output tokens, and $50 for one
downstream failure.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tierwatch.ingest import environment

# Every top-level setting once, as data: (name, default, help). It drives validation,
# the defaults and docs/log-format.md's config section.
SETTINGS: tuple[tuple[str, float, str], ...] = (
    ("failure_cost_usd", 50.0, "what one downstream failure costs (rework, engineering time)"),
    (
        "engineering_usd_per_month",
        50.0,
        "what building and maintaining routing costs per month, about an hour of an "
        "engineer's time (the verdict weighs the monthly saving against it)",
    ),
    ("min_tasks_per_day", 300.0, "volume above which routing can pay off (the verdict)"),
    ("stale_after_days", 90.0, "routing evidence older than this is flagged stale"),
    (
        "prior_tasks",
        5.0,
        "the what-if shrinks a task type's rate on a tier toward the fleet's by this many "
        "pseudo-tasks, and borrows the fleet's rate with only these behind it where the type "
        "has none",
    ),
    (
        "min_evidence_tasks",
        30.0,
        "the optimiser moves a task type to a tier only with at least this many of its tasks "
        "started there; a move with fewer goes to the exploration plan",
    ),
    (
        "exploration_days",
        14.0,
        "an exploration plan aims to collect its tasks within this many days",
    ),
    (
        "max_gzip_expansion",
        100.0,
        "a .gz input may expand to at most this many times its size (a gzip bomb is refused)",
    ),
    (
        "max_record_mb",
        64.0,
        "the longest record (a line, a CSV row, a Parquet row) read; a longer one refuses its file",
    ),
)

DEFAULT_TIERS: tuple[dict, ...] = (
    {
        "name": "haiku",
        "input_usd_per_mtok": 0.80,
        "output_usd_per_mtok": 4.00,
        "cached_input_usd_per_mtok": 0.08,
        "models": ["*haiku*"],
    },
    {
        "name": "sonnet",
        "input_usd_per_mtok": 3.00,
        "output_usd_per_mtok": 15.00,
        "cached_input_usd_per_mtok": 0.30,
        "models": ["*sonnet*"],
    },
    {
        "name": "opus",
        "input_usd_per_mtok": 15.00,
        "output_usd_per_mtok": 75.00,
        "cached_input_usd_per_mtok": 1.50,
        "models": ["*opus*"],
    },
)


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Price:
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    cached_input_usd_per_mtok: float


@dataclass(frozen=True)
class Tier:
    name: str
    rank: int
    price: Price
    models: tuple[str, ...] = ()
    representative: str | None = None  # the model whose price is the tier's (named ladders)
    price_from: str = "built-in defaults"  # the config file, or the price library's version


@dataclass(frozen=True)
class ModelPrice:
    """A model's own price from a date on; it overrides its tier's price."""

    model: str  # a glob over model ids
    starts: dt.date
    price: Price


AUTH_MODES = ("none", "proxy", "oidc")


@dataclass(frozen=True)
class Access:
    """Who may use a shared dashboard ([dashboard] in tierwatch.toml; docs/deploy.md).

    auth: "none" (no sign-in: anyone who reaches it), "proxy" (the user is the value of
    `user_header`, set by an authenticating proxy the dashboard trusts) or "oidc"
    (Streamlit's OpenID Connect sign-in, st.login). editors and viewers are globs over the
    user (an e-mail address, usually): editors flag and upload, viewers see; a signed-in
    user matching neither is turned away.
    """

    auth: str = "none"
    user_header: str = "X-Forwarded-Email"
    editors: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ("*",)

    def role(self, user: str | None) -> str | None:
        """'editor', 'viewer' or None (not allowed) for a signed-in `user`."""
        if user is None:
            return None
        who = user.strip().lower()
        if any(fnmatch.fnmatchcase(who, g.lower()) for g in self.editors):
            return "editor"
        if any(fnmatch.fnmatchcase(who, g.lower()) for g in self.viewers):
            return "viewer"
        return None


NO_TIER_ADVICE = (
    "give tier, add a models glob to the tier in tierwatch.toml, or choose a named ladder there "
    '(ladder = "openai", "google", "anthropic" or "mixed")'
)


@dataclass(frozen=True)
class Config:
    tiers: tuple[Tier, ...]
    prices: tuple[ModelPrice, ...] = ()
    settings: dict[str, float] = field(default_factory=dict)
    source: str = "built-in defaults"
    ladder_name: str | None = None  # a named ladder of ingest/ladders.toml, when chosen
    model_prices: str = "tiers"  # "library": each model priced by ingest.model_prices
    sources: dict = field(default_factory=dict)  # [sources.NAME] mapping overrides
    access: Access = field(default_factory=Access)  # [dashboard]: sign-in and roles

    @property
    def ladder(self) -> tuple[str, ...]:
        """Tier names, cheapest first: the escalation ladder."""
        return tuple(t.name for t in self.tiers)

    @property
    def failure_cost_usd(self) -> float:
        return self.settings["failure_cost_usd"]

    def setting(self, name: str) -> float:
        return self.settings[name]

    def tier(self, name: str) -> Tier:
        """The tier called `name` (case-insensitive); ConfigError when there is none."""
        for t in self.tiers:
            if t.name == name.lower():
                return t
        raise ConfigError(
            f"unknown tier {name!r}: the ladder is {' < '.join(self.ladder)} ({self.source})"
        )

    def has_model_price(self, model: str) -> bool:
        """Whether one of the config's [[prices]] globs prices `model`."""
        return any(fnmatch.fnmatchcase(model.lower(), p.model.lower()) for p in self.prices)

    def tier_for_model(self, model: str) -> str | None:
        """The first tier (cheapest first) one of whose model globs matches `model`."""
        for t in self.tiers:
            if any(fnmatch.fnmatchcase(model.lower(), g.lower()) for g in t.models):
                return t.name
        return None

    def no_tier_advice(self, model: str) -> str:
        """What to do about a call whose `model` maps to no tier of this ladder: the named
        ladders that do map it, by name, else the ways to give a tier."""
        others = {n: t for n, t in ladders_for_model(model).items() if n != self.ladder_name}
        if not others:
            return NO_TIER_ADVICE
        maps = "; ".join(f'ladder = "{n}" maps it to {t}' for n, t in others.items())
        return f"in tierwatch.toml, {maps}; or give tier, or add a models glob to a tier"


def _number(raw: dict, key: str, where: str, *, default: float | None = None) -> float:
    if key not in raw:
        if default is None:
            raise ConfigError(f"{where}: {key} is missing; give a number >= 0")
        return default
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {key} is {value!r}, must be a number >= 0")
    if not math.isfinite(value):
        raise ConfigError(f"{where}: {key} is {value!r}, must be a finite number >= 0")
    return float(value)


def _price(raw: dict, where: str) -> Price:
    input_price = _number(raw, "input_usd_per_mtok", where)
    return Price(
        input_usd_per_mtok=input_price,
        output_usd_per_mtok=_number(raw, "output_usd_per_mtok", where),
        cached_input_usd_per_mtok=_number(
            raw, "cached_input_usd_per_mtok", where, default=input_price
        ),
    )


def _globs(raw: dict, where: str) -> tuple[str, ...]:
    models = raw.get("models", [])
    if isinstance(models, str):
        models = [models]
    if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
        raise ConfigError(f"{where}: models must be a list of model-id globs, e.g. ['*haiku*']")
    return tuple(models)


_TIER_KEYS = {
    "name",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cached_input_usd_per_mtok",
    "representative",
}
MODEL_PRICES = ("tiers", "library")


def named_ladders() -> dict[str, list[dict]]:
    """The ladders of ingest/ladders.toml, by name."""
    return tomllib.loads(_ladders_text())


@functools.cache
def _ladders_text() -> str:
    from importlib import resources

    return (resources.files("tierwatch.ingest") / "ladders.toml").read_text(encoding="utf-8")


@functools.cache
def ladders_for_model(model: str) -> dict[str, str]:
    """The named ladders that map `model` to a tier, and the tier each maps it to."""
    out = {}
    for name, tiers in named_ladders().items():
        for t in tiers:
            if any(fnmatch.fnmatchcase(model.lower(), g.lower()) for g in t["models"]):
                out[name] = t["name"]
                break
    return out


def _ladder_tiers(name, source: str) -> list[dict]:
    """A named ladder's tiers, priced at their representative model's library price."""
    from tierwatch.ingest import model_prices

    ladders = named_ladders()
    if not isinstance(name, str) or name.lower() not in ladders:
        raise ConfigError(
            f"{source}: ladder is {name!r}; the named ladders are {', '.join(ladders)} "
            f"(or leave it out and list [[tiers]])"
        )
    tiers = []
    for t in ladders[name.lower()]:
        price = model_prices.price_of(t["representative"])
        if price is None:  # pragma: no cover - the shipped ladders name known models
            raise ConfigError(f"ladder {name}: no price for {t['representative']}")
        tiers.append(
            {
                "name": t["name"],
                "models": list(t["models"]),
                "representative": t["representative"],
                "_price_from": model_prices.library_version(),
                "input_usd_per_mtok": price.input_usd_per_mtok,
                "output_usd_per_mtok": price.output_usd_per_mtok,
                "cached_input_usd_per_mtok": price.cached_input_usd_per_mtok,
            }
        )
    return tiers


def _extend(base: list[dict], extra, source: str) -> list[dict]:
    """A named ladder extended by [[tiers]]: same-named tiers gain models and replace
    prices; other names are added at the dear end."""
    if not isinstance(extra, list):
        raise ConfigError(f"{source}: [[tiers]] must be a list of tables")
    out = [dict(t) for t in base]
    for t in extra:
        if not isinstance(t, dict):
            raise ConfigError(f"{source}: [[tiers]] entries must be tables")
        name = str(t.get("name", "")).strip().lower()
        same = next((x for x in out if x["name"] == name), None)
        if same is None:
            out.append(dict(t))
            continue
        models = _globs(t, f"{source}: tiers {name!r}")
        if set(t) & {"input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok"}:
            same.pop("_price_from", None)  # the config's price replaces the library's
        same.update({k: v for k, v in t.items() if k not in ("models",)})
        same["models"] = list(same["models"]) + list(models)
    return out


_PRICE_KEYS = {"model", "from", "input_usd_per_mtok", "output_usd_per_mtok"}


def parse_config(raw: dict, source: str = "tierwatch.toml") -> Config:
    """Validate a parsed TOML document into a Config; ConfigError names key and problem."""
    known = {name for name, _, _ in SETTINGS} | {
        "tiers",
        "prices",
        "ladder",
        "model_prices",
        "sources",
        "dashboard",
    }
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"{source}: unknown key {key!r}; known keys are {', '.join(sorted(known))}"
            )
    settings = {name: _number(raw, name, source, default=default) for name, default, _ in SETTINGS}

    ladder_name = raw.get("ladder")
    if ladder_name is not None:
        raw_tiers = _ladder_tiers(ladder_name, source)
        if "tiers" in raw:
            raw_tiers = _extend(raw_tiers, raw["tiers"], source)
        ladder_name = ladder_name.lower()
    else:
        raw_tiers = (
            raw["tiers"]
            if "tiers" in raw
            else [
                {**t, "_price_from": "built-in defaults (the article's prices)"}
                for t in DEFAULT_TIERS
            ]
        )
    model_prices = raw.get("model_prices", "library" if ladder_name else "tiers")
    if model_prices not in MODEL_PRICES:
        raise ConfigError(
            f"{source}: model_prices is {model_prices!r}, must be one of "
            f"{', '.join(MODEL_PRICES)} (library: each model at its own price)"
        )
    from tierwatch.ingest.sources import check_overrides

    try:
        overrides = check_overrides(raw.get("sources", {}), source)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise ConfigError(f"{source}: [[tiers]] must list at least one tier, cheapest first")
    tiers: list[Tier] = []
    for i, t in enumerate(raw_tiers, start=1):
        where = f"{source}: tiers[{i}]"
        if not isinstance(t, dict):
            raise ConfigError(f"{where} must be a table with name and prices")
        extra = set(t) - _TIER_KEYS - {"models", "_price_from"}
        if extra:
            raise ConfigError(f"{where}: unknown key {sorted(extra)[0]!r}")
        name = t.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}: name is missing or empty; give the tier a name")
        name = name.strip().lower()
        if any(x.name == name for x in tiers):
            raise ConfigError(f"{where}: tier name {name!r} appears twice")
        representative = t.get("representative")
        if representative is not None and not isinstance(representative, str):
            raise ConfigError(f"{where}: representative must be a model id")
        tiers.append(
            Tier(
                name=name,
                rank=i,
                price=_price(t, where),
                models=_globs(t, where),
                representative=representative,
                price_from=t.get("_price_from", source),
            )
        )

    prices: list[ModelPrice] = []
    raw_prices = raw.get("prices", [])
    if not isinstance(raw_prices, list):
        raise ConfigError(
            f"{source}: prices is {raw_prices!r}, must be a list of [[prices]] tables "
            f"(model, from, input_usd_per_mtok, output_usd_per_mtok)"
        )
    for i, p in enumerate(raw_prices, start=1):
        where = f"{source}: prices[{i}]"
        if not isinstance(p, dict):
            raise ConfigError(f"{where} must be a table with model, from and prices")
        extra = set(p) - _PRICE_KEYS - {"cached_input_usd_per_mtok"}
        if extra:
            raise ConfigError(f"{where}: unknown key {sorted(extra)[0]!r}")
        model = p.get("model")
        if not isinstance(model, str) or not model:
            raise ConfigError(f"{where}: model is missing; give a model-id glob")
        starts = p.get("from")
        if isinstance(starts, str):
            try:
                starts = dt.date.fromisoformat(starts)
            except ValueError:
                raise ConfigError(
                    f"{where}: from is {starts!r}, must be a date like 2026-03-01"
                ) from None
        if isinstance(starts, dt.datetime):
            starts = starts.date()
        if not isinstance(starts, dt.date):
            raise ConfigError(f"{where}: from is missing; give a date like 2026-03-01")
        prices.append(ModelPrice(model=model, starts=starts, price=_price(p, where)))

    return Config(
        tiers=tuple(tiers),
        prices=tuple(prices),
        settings=settings,
        source=source,
        ladder_name=ladder_name,
        model_prices=model_prices,
        sources=overrides,
        access=_access(raw.get("dashboard", {}), source),
    )


def _access(raw, source: str) -> Access:
    """[dashboard]: auth, user_header, editors, viewers; ConfigError naming the key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [dashboard] must be a table (auth, editors, viewers)")
    known = {"auth", "user_header", "editors", "viewers"}
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"{source}: [dashboard] has unknown key {key!r}; known keys are "
                f"{', '.join(sorted(known))}"
            )
    auth = raw.get("auth", "none")
    if auth not in AUTH_MODES:
        raise ConfigError(
            f"{source}: [dashboard] auth is {auth!r}, must be one of {', '.join(AUTH_MODES)}"
        )
    header = raw.get("user_header", Access.user_header)
    if not isinstance(header, str) or not re.fullmatch(r"[A-Za-z0-9-]+", header):
        raise ConfigError(
            f"{source}: [dashboard] user_header is {header!r}; give an HTTP header name such "
            "as X-Forwarded-Email"
        )
    lists = {}
    for key, default in (("editors", ()), ("viewers", ("*",))):
        value = raw.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(
                f"{source}: [dashboard] {key} must be a list of user names or globs, e.g. "
                f'["ana@example.com", "*@example.com"]'
            )
        lists[key] = tuple(value)
    if auth != "none" and not lists["editors"] and not lists["viewers"]:
        raise ConfigError(f"{source}: [dashboard] lets nobody in: give editors or viewers")
    return Access(auth, header, lists["editors"], lists["viewers"])


def load_config(path: str | os.PathLike | None = None) -> Config:
    """The config at `path`, else at $TIERWATCH_CONFIG, else the built-in defaults."""
    path = path or environment.value("config")
    if not path:
        return parse_config({}, source="built-in defaults")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        line = p.read_bytes()[: e.start].count(b"\n") + 1
        raise ConfigError(
            f"{p}: line {line} is not valid UTF-8 (byte {e.start + 1}); save the file as UTF-8"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"config file {p} is a folder; name the tierwatch.toml in it") from None
    except FileNotFoundError:
        raise ConfigError(
            f"config file {p} does not exist; check --config or ${environment.variable('config')}"
        ) from None
    except OSError as e:
        raise ConfigError(f"config file {p} cannot be read: {e.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from None
    return parse_config(raw, source=str(p))
