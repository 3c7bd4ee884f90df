"""Decoding of Bot API request parameters.

Telegram accepts query strings, url-encoded forms, multipart forms and JSON bodies. PTB sends
forms in which every non-string value is JSON-encoded, so form values are decoded lazily by the
accessor that knows which type the method expects (a text "123" must stay a string).
"""

import json
from dataclasses import dataclass, field
from typing import Any

from tornado.httputil import HTTPFile, HTTPServerRequest, parse_body_arguments

from .errors import bad_request


@dataclass
class Upload:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Params:
    values: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.values or name in self.files

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None:
            return _missing(name, required)
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return _missing(name, required)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def obj(self, name: str, required: bool = False) -> Any:
        value = self.values.get(name)
        if value is None:
            return _missing(name, required)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def chat_id(self) -> int | str:
        """Chat ids are integers or ``@username`` strings."""
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str) and value.startswith("@"):
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None


def _missing(name: str, required: bool) -> None:
    if required:
        raise bad_request(f"{name} is empty")
    return None


def decode_request(request: HTTPServerRequest) -> Params:
    params = Params()
    for name, values in request.query_arguments.items():
        params.values[name] = values[-1].decode("utf-8")
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("application/json"):
        params.values.update(_json_body(request.body))
    elif request.body:
        _form_body(request, content_type, params)
    return params


def _json_body(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        decoded = json.loads(body)
    except ValueError:
        raise bad_request("can't parse JSON request body") from None
    if not isinstance(decoded, dict):
        raise bad_request("JSON request body must be an object")
    return decoded


def _form_body(request: HTTPServerRequest, content_type: str, params: Params) -> None:
    arguments: dict[str, list[bytes]] = {}
    files: dict[str, list[HTTPFile]] = {}
    parse_body_arguments(content_type, request.body, arguments, files, request.headers)
    for name, values in arguments.items():
        params.values[name] = values[-1].decode("utf-8")
    for name, uploads in files.items():
        upload = uploads[-1]
        params.files[name] = Upload(upload.filename, upload.content_type, upload.body)
