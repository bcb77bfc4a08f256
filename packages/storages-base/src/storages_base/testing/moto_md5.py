"""moto's S3 server, checking ``Content-MD5`` as S3 does (moto stores the body whatever the
header says): ``python -m storages_base.testing.moto_md5 -H 127.0.0.1 -p PORT``.

A PUT whose body does not have the MD5 its ``Content-MD5`` states gets S3's answer, 400
``BadDigest``, and nothing is stored; a header that is not base64 of 16 bytes,
``InvalidDigest``. Everything else goes to moto unchanged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import sys
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["ContentMD5", "main"]

_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
    "<Message>{message}</Message></Error>"
)


class ContentMD5:
    """WSGI middleware: refuse a request body that does not match its ``Content-MD5``."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        stated = environ.get("HTTP_CONTENT_MD5")
        if not stated or environ.get("REQUEST_METHOD") not in ("PUT", "POST"):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            digest = base64.b64decode(stated, validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 16:
            return _refuse(
                start_response, "InvalidDigest", "The Content-MD5 you specified was invalid."
            )
        if hashlib.md5(body, usedforsecurity=False).digest() != digest:
            message = "The Content-MD5 you specified did not match what we received."
            return _refuse(start_response, "BadDigest", message)
        return self.app(environ, start_response)


def _refuse(start_response: Any, code: str, message: str) -> list[bytes]:
    body = _ERROR.format(code=code, message=message).encode()
    start_response(
        "400 Bad Request",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]


def main(argv: list[str] | None = None) -> None:
    """moto's ``main`` with its application wrapped."""
    from moto import server

    original = getattr(server, "DomainDispatcherApplication")  # noqa: B009 (not exported)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return ContentMD5(original(*args, **kwargs))

    setattr(server, "DomainDispatcherApplication", wrapped)  # noqa: B010
    server.main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
