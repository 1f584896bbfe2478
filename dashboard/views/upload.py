"""Upload: load log files from the browser, with the same accounting and per-record errors
as `tierwatch ingest`. Loading a file again adds nothing: its records count as duplicates."""

import pandas as pd
import streamlit as st

from tierwatch.dashboard import connection, ui, writes
from tierwatch.dashboard import settings as dashboard_settings
from tierwatch.ingest.load import IngestError
from tierwatch.ingest.sources import SOURCES

RESULTS_KEY = "upload-results"

st.title("Upload log files")
settings = dashboard_settings.settings()
st.caption(
    "JSONL, CSV or Parquet in log format v1 (docs/log-format.md), OpenTelemetry traces "
    "(OTLP/JSON or protobuf), LiteLLM logs and Langfuse exports (docs/sources.md), gzip "
    f"too; up to {settings.max_upload_mb:,.0f} MB a file. Larger files: "
    f"`tierwatch ingest PATH --db {settings.db}` from a terminal."
)

files = st.file_uploader(
    "Log files",
    accept_multiple_files=True,
    key="upload-files",
    type=["jsonl", "json", "ndjson", "csv", "parquet", "pq", "pb", "gz"],
)
if files and st.button(f"Load {len(files)} file(s)", type="primary", key="upload-load"):
    total = sum(f.size for f in files) or 1
    bar = st.progress(0.0, text="Loading…")
    read: dict[str, int] = {}

    def step(name: str, done: int) -> None:
        read[name] = done
        bar.progress(min(sum(read.values()) / total, 1.0), text=f"Loading {ui.literal(name)}…")

    try:  # small files many in one pass, as `tierwatch ingest` loads a folder
        outcomes = writes.ingest_uploads([(f.name, f.getvalue()) for f in files], step)
    except connection.Unavailable as e:
        outcomes = [(f.name, e) for f in files]
    results = [
        {"file": name, "error": str(o)}
        if isinstance(o, writes.UploadRefused | IngestError | connection.Unavailable)
        else {"file": name, "result": o}
        for name, o in outcomes
    ]
    bar.progress(1.0, text="Done")
    st.session_state[RESULTS_KEY] = results

results = st.session_state.get(RESULTS_KEY) or []
from_sources = any("result" in r and r["result"].format in SOURCES for r in results)
if results:
    st.subheader("What was loaded")
    summary = pd.DataFrame(
        [
            {
                "file": r["file"],
                "read": r["result"].read if "result" in r else None,
                "loaded": r["result"].loaded if "result" in r else None,
                "duplicates": r["result"].duplicates if "result" in r else None,
                "rejected": r["result"].rejected if "result" in r else None,
                **(
                    {"skipped": r["result"].skipped if "result" in r else None}
                    if from_sources
                    else {}
                ),
                "problem": r.get("error", ""),
            }
            for r in results
        ]
    )
    ui.table(
        summary,
        "upload accounting",
        caption="For every file: read = loaded + duplicates + rejected"
        + (" + skipped (spans and records that are not model calls)." if from_sources else "."),
    )
    for r in results:
        note = r["result"].fallbacks_note() if "result" in r else None
        if note:
            st.warning(
                f"{ui.literal(r['file'])}: {note}; docs/sources.md says how.",
                icon=":material/warning:",
            )
        if "result" in r and r["result"].missing:
            st.info(
                f"{ui.literal(r['file'])}: none of its records carries what some pages need: "
                + "; ".join(r["result"].missing)
                + ". docs/sources.md shows the attributes to add.",
                icon=":material/info:",
            )
    rejects = pd.DataFrame(
        [
            {
                "file": r["file"],
                "line": x.line,
                **({"where": x.where} if from_sources else {}),
                "field": x.field,
                "reason": x.reason,
            }
            for r in results
            if "result" in r
            for x in r["result"].rejects
        ]
    )
    if not rejects.empty:
        st.subheader("Rejected records")
        st.caption(
            "Not loaded; fix them and upload the file again (the good records of a "
            "file load either way). The first 100 per file are listed."
        )
        ui.table(rejects, "rejected records")
    if any("result" in r and r["result"].loaded for r in results):
        st.page_link(
            "views/overview.py",
            label="See the new data on the Overview",
            icon=":material/dashboard:",
        )
