"""Run `transformers serve` (its own CLI and app) with vLLM's API-key check in front of it.

`python tests/serve_launch.py MODEL --host H --port P ...` is `transformers serve MODEL ...`;
when TINY_SERVER_KEY is set, every request without `Authorization: Bearer <key>` gets what
vLLM's `--api-key` answers: 401 {"error": "Unauthorized"}. Used by `tests/served.py` only.
"""

import os
import sys

from transformers.cli.serving import server as _server

KEY = os.environ.pop("TINY_SERVER_KEY", "")
if KEY:
    _build = _server.build_server

    def build_server(*args, **kwargs):  # type: ignore[no-untyped-def]
        from fastapi.responses import JSONResponse

        app = _build(*args, **kwargs)

        @app.middleware("http")
        async def check_key(request, call_next):  # type: ignore[no-untyped-def]
            if request.headers.get("authorization") != f"Bearer {KEY}":
                return JSONResponse({"error": "Unauthorized"}, status_code=401)
            return await call_next(request)

        return app

    _server.build_server = build_server

from transformers.cli.transformers import main  # noqa: E402 (after the patch above)

sys.argv = ["transformers", "serve", *sys.argv[1:]]
main()
