"""One kernel's link to a gateway: its id, its websocket channels and its folder on its host.

`GatewayLink` holds what `GatewayKernel` (`gateway.py`) builds on: asking the gateway for a
fresh kernel, connecting its channels and waiting until it answers, making or entering again its
private folder (`tempfile.mkdtemp` on the kernel's host), whether it is alive (the gateway's
word, or the cheap check a waiting run polls), interrupting it, telling a kernel the gateway no
longer has from a gateway that is down, and the silent requests that move files in and out
(`transfer.py`). Slots and restarts are `gateway.py`'s; deadlines and outputs, `cellrun.py`'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from codegen_ui.core import KernelError
from codegen_ui.kernel.client import Slots
from codegen_ui.kernel.gwclient import Channels, Gateway, GatewayConfig, GatewayError, KernelGone
from codegen_ui.kernel.gwfiles import GatewayFiles
from codegen_ui.kernel.sandbox import KernelConfig
from codegen_ui.kernel.transfer import CHUNK, SETUP_S, list_files, put_files, quiet, read_file

log = logging.getLogger("codegen_ui.kernel")
NEW_FOLDER = "__import__('os').chdir(__import__('tempfile').mkdtemp(prefix='codegen-ui-'))"


class GatewayLink:
    """The connection half of a gateway kernel. Not thread-safe."""

    def __init__(
        self,
        gateway: GatewayConfig,
        config: KernelConfig | None = None,
        slots: Slots | None = None,
    ) -> None:
        self.gateway = gateway
        self.config = config or KernelConfig()
        self.startup_timeout = self.config.startup_timeout
        self.slots = slots
        self.kernel_id: str | None = None
        self.folder: str | None = None  # its working folder, on the kernel's host
        self.last_used = time.monotonic()
        self.parked = False
        self._api = Gateway(gateway)
        self._ch: Channels | None = None
        self._slot = False

    def _fresh(self) -> None:
        """A new kernel on the gateway, connected and in its folder (the old one, if kept)."""
        self.kernel_id = self._api.start(self.gateway.kernel_spec)
        self._connect()

    def _connect(self) -> None:
        assert self.kernel_id is not None
        self._ch = self._api.channels(self.kernel_id)
        self._wait_ready()
        self._enter_folder()

    def _wait_ready(self) -> None:
        """Ask for kernel_info until it answers: the websocket may open before the kernel."""
        assert self._ch is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            msg_id = self._ch.send("shell", "kernel_info_request", {})
            if self._ch.reply("shell", msg_id, 2.0) is not None:
                return
            if self._ch.lost.is_set():
                raise GatewayError(
                    f"the kernel gateway at {self.gateway.where} closed the channels"
                )
        raise GatewayError(f"the gateway's kernel did not answer within {self.startup_timeout:g} s")

    def _enter_folder(self) -> None:
        """Make (or enter again, after a restart or a park) the kernel's private folder."""
        if self.folder is None:
            code = NEW_FOLDER
        else:
            code = f"__import__('os').makedirs({self.folder!r}, exist_ok=True)\n"
            code += f"__import__('os').chdir({self.folder!r})"
        self.folder = str(self._quiet(code, {"cwd": "__import__('os').getcwd()"})["cwd"])

    @property
    def is_alive(self) -> bool:
        if self.kernel_id is None or self._ch is None or self._ch.lost.is_set():
            return False
        try:
            state = self._api.kernel(self.kernel_id).get("execution_state")
        except GatewayError:
            return False
        return state != "dead"

    def _alive(self) -> bool:
        """The cheap check a waiting run polls: the socket is open, no restart under us."""
        ch = self._ch
        return ch is not None and not ch.lost.is_set() and not ch.restarted.is_set()

    def interrupt(self) -> None:
        if self.kernel_id is None:
            return
        try:
            self._api.interrupt(self.kernel_id)
        except GatewayError as exc:  # Stop must not raise; the run's own wait reports failure
            log.info("interrupt not sent: %s", exc)

    def _gone(self) -> bool:
        """Whether the gateway no longer has this kernel (raises if it cannot be asked)."""
        try:
            self._api.kernel(self.kernel_id or "")
        except KernelGone:
            return True
        return False

    def _close_channels(self) -> None:
        if self._ch is not None:
            self._ch.close()
            self._ch = None

    def _quiet(
        self,
        code: str,
        expressions: dict[str, str],
        timeout: float = SETUP_S,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if self._ch is None:
            raise KernelError("the kernel is not started")
        return quiet(self._ch, code, expressions, timeout, metadata)

    # -- files (`transfer.py`) ------------------------------------------------------------------

    def _folder(self) -> str:
        if self.folder is None or self._ch is None:
            raise KernelError("the kernel is not started")
        return self.folder

    def put_files(self, files: Mapping[str, bytes], chunk: int = CHUNK) -> None:
        """Write each file (name -> bytes) into the kernel's folder, replacing any of that name;
        each file is either all there or not changed."""
        put_files(self._quiet, self._folder(), files, chunk)

    def read_file(self, name: str, chunk: int = CHUNK) -> bytes:
        """The bytes of a file in the kernel's folder."""
        return read_file(self._quiet, self._folder(), name, chunk)

    @property
    def files(self) -> GatewayFiles:
        """Its working folder's user files, as the Files panel reaches them (`gwfiles`)."""
        return GatewayFiles(self._quiet, self._folder)

    def list_files(self) -> list[str]:
        """The plain files in the kernel's folder."""
        return list_files(self._quiet, self._folder())
