"""Run `transformers serve` (its own CLI and app) with vLLM's API-key check in front of it.

`python tests/serve_launch.py MODEL --host H --port P ...` is `transformers serve MODEL ...`;
when TINY_SERVER_KEY is set, every request without `Authorization: Bearer <key>` gets what
vLLM's `--api-key` answers: 401 {"error": "Unauthorized"}. Used by `tests/served.py` only.

`transformers serve` may run parts of itself (the model, API servers) in spawned processes,
which import this file again as `__mp_main__`. So the CLI runs only under the `__main__` guard
(a child must not parse this command line or start a second server), while the key check is
installed at import, from the environment each child inherits: whichever process builds the
app gets it, however the CLI spawns its workers.
"""

import os
import sys

from transformers.cli.serving import server as _server


def install_key_check(key: str) -> None:
    """Answer 401 to every request without `Authorization: Bearer <key>`."""
    _build = _server.build_server

    def build_server(*args, **kwargs):  # type: ignore[no-untyped-def]
        from fastapi.responses import JSONResponse

        app = _build(*args, **kwargs)

        @app.middleware("http")
        async def check_key(request, call_next):  # type: ignore[no-untyped-def]
            if request.headers.get("authorization") != f"Bearer {key}":
                return JSONResponse({"error": "Unauthorized"}, status_code=401)
            return await call_next(request)

        return app

    _server.build_server = build_server


KEY = os.environ.get("TINY_SERVER_KEY", "")
if KEY:
    install_key_check(KEY)

if __name__ == "__main__":
    from transformers.cli.transformers import main

    sys.argv = ["transformers", "serve", *sys.argv[1:]]
    main()
