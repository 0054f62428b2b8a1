"""Error shapes of the REST API: ``{error: {code, message}}`` for every failure."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from loom.bus.errors import translate
from loom.errors import LoomError


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(LoomError)
    async def loom_error(request: Request, exc: LoomError) -> JSONResponse:
        status = 400 if exc.code == "INVALID_ARGUMENT" else exc.http_status
        return error_response(status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        error = exc.errors()[0]
        if error.get("type") == "json_invalid":
            return error_response(400, "INVALID_ARGUMENT", "the body is not valid JSON")
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or "body"
        return error_response(422, "INVALID_ARGUMENT", f"{field}: {error.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        codes = {401: "UNAUTHENTICATED", 404: "NOT_FOUND", 405: "INVALID_ARGUMENT"}
        return error_response(exc.status_code, codes.get(exc.status_code, "INTERNAL"), str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        error = translate(exc)
        if error is not None:
            return error_response(error.http_status, error.code, error.message)
        return error_response(500, "INTERNAL", "unexpected server error; see the Weft log")
