"""The OTLP/HTTP trace receiver of `tierwatch collect`, as a Starlette (ASGI) app.

`POST /v1/traces` (and `/api/public/otel/v1/traces`, where the Langfuse SDK sends) takes an
ExportTraceServiceRequest as `application/x-protobuf` or `application/json`, optionally
`Content-Encoding: gzip`, as the OTLP/HTTP specification says, and answers only once the
spans are durable (fsynced to the spool that the writer moves into the store,
ingest/collect.py):

- 200 with an ExportTraceServiceResponse, whose `partial_success` counts the spans
  rejected and says why;
- 400 for a body that cannot be decoded (a google.rpc.Status naming why), 401 without the
  bearer token when one is set (or HTTP Basic with the token as its password), 413 past
  the size cap (compressed or not), 415 for another media type or encoding, 503 with
  `Retry-After` when the writer is behind, which OTLP exporters retry.

`GET /health` says it is alive and how much is waiting.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import zlib

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tierwatch.ingest.collect import Busy, Collector
from tierwatch.ingest.sources import otlp

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
DEFAULT_MAX_BODY = 20 << 20  # bytes, compressed and decompressed (the Collector's default)
DRAIN_LIMIT = 256 << 20  # an oversized body is read and dropped up to this, then cut off


class _Refused(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def decode(media: str, body: bytes) -> tuple[list, list]:
    """(spans with valid ids, spans without) of a request body; _Refused(400) when it is
    not an OTLP trace export request."""
    if media == PROTOBUF:
        try:
            spans = list(otlp.spans_of_protobuf(body, line=0))
        except otlp.OtlpError as e:
            raise _Refused(400, str(e)) from None
    else:
        try:
            doc = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise _Refused(400, f"the body is not JSON ({e})") from None
        if not isinstance(doc, dict) or not (doc.keys() & {"resourceSpans", "batches"}):
            raise _Refused(
                400, "the body is JSON but not an OTLP ExportTraceServiceRequest (no resourceSpans)"
            )
        try:
            spans = [s for s in otlp.spans_of_json(doc, 0) if isinstance(s, otlp.Span)]
        except (AttributeError, TypeError, ValueError) as e:
            raise _Refused(400, f"the body is not a well-formed OTLP/JSON request ({e})") from None
    good = [s for s in spans if otlp.has_valid_ids(s)]
    bad = [s for s in spans if not otlp.has_valid_ids(s)]
    return good, bad


def _gunzip(body: bytes, cap: int) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, cap + 1)
        if len(out) > cap or inflater.unconsumed_tail:
            raise _Refused(413, f"the body decompresses to more than {cap} bytes")
        out += inflater.flush()
    except zlib.error as e:
        raise _Refused(400, f"the body is not valid gzip ({e})") from None
    if not inflater.eof:
        raise _Refused(400, "the body is not valid gzip (truncated)")
    if len(out) > cap:
        raise _Refused(413, f"the body decompresses to more than {cap} bytes")
    return out


def _status(media: str, code: int, message: str) -> bytes:
    """A google.rpc.Status body, as OTLP/HTTP answers a refused request."""
    grpc_code = {400: 3, 401: 16, 413: 8, 415: 3, 503: 14}.get(code, 2)
    if media == JSON:
        return json.dumps({"code": grpc_code, "message": message}).encode()
    from google.rpc import status_pb2

    return status_pb2.Status(code=grpc_code, message=message).SerializeToString()


def create_app(
    collector: Collector, *, max_body: int = DEFAULT_MAX_BODY, token: str | None = None
) -> Starlette:
    expected = f"Bearer {token}".encode() if token else None

    def _authorized(header: str) -> bool:
        """The bearer token, or HTTP Basic with the token as password (the Langfuse SDK
        sends its public and secret key so: a Langfuse fleet sets the secret key to it)."""
        if hmac.compare_digest(header.encode(), expected):
            return True
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            _, _, password = base64.b64decode(credentials, validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(password, token.encode())

    async def _body(request: Request) -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                # read the rest without keeping it (up to a bound), so that the client
                # hears the 413 instead of a broken connection it would retry
                async for rest in request.stream():
                    size += len(rest)
                    if size > DRAIN_LIMIT:
                        break
                raise _Refused(413, f"the body is over {max_body} bytes; split the batch")
            chunks.append(chunk)
        return b"".join(chunks)

    async def traces(request: Request) -> Response:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        reply = media if media in (PROTOBUF, JSON) else JSON
        try:
            if expected is not None:
                if not _authorized(request.headers.get("authorization", "")):
                    raise _Refused(401, "a bearer token is needed: Authorization: Bearer …")
            if media not in (PROTOBUF, JSON):
                raise _Refused(415, f"content type {media or '(none)'}; send {PROTOBUF} or {JSON}")
            encoding = request.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("identity", "", "gzip"):
                raise _Refused(415, f"content encoding {encoding}; send gzip or none")
            body = await _body(request)
            if encoding == "gzip":
                body = await run_in_threadpool(_gunzip, body, max_body)
            good, bad = await run_in_threadpool(decode, media, body)
            try:
                ack = await run_in_threadpool(collector.submit, good, bad)
            except Busy as e:
                raise _Refused(503, f"behind: {e}; retry later", e.retry_after) from None
            except OSError as e:  # the spool cannot be written: a full disk
                why = f"cannot keep the spans ({e.strerror}); retry later"
                raise _Refused(503, why, 5) from None
        except _Refused as e:
            headers = {"Retry-After": str(e.retry_after)} if e.retry_after else None
            return Response(
                _status(reply, e.status, str(e)), e.status, headers=headers, media_type=reply
            )
        return Response(_ack_body(reply, ack.rejected, ack.message()), media_type=reply)

    async def health(request: Request) -> Response:
        state = collector.waiting()
        return JSONResponse({"status": "ok", **state})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # the collector is started by whoever serves the app (its errors are theirs to
        # word); on shutdown it writes what is waiting
        try:
            yield
        finally:
            await run_in_threadpool(collector.stop)

    return Starlette(
        routes=[
            Route("/v1/traces", traces, methods=["POST"]),
            # where the Langfuse SDK sends its spans: a Langfuse fleet's base URL can be
            # tierwatch's (LANGFUSE_BASE_URL=http://127.0.0.1:4318)
            Route("/api/public/otel/v1/traces", traces, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _ack_body(media: str, rejected: int, message: str) -> bytes:
    if media == JSON:
        if not rejected:
            return b"{}"
        return json.dumps(
            {"partialSuccess": {"rejectedSpans": str(rejected), "errorMessage": message}}
        ).encode()
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    return response.SerializeToString()
