"""A kernel on a Jupyter (Enterprise) Gateway, with the same contract as the local `Kernel`.

`GatewayKernel` is a `LiveKernel`: start, interrupt, restart, park and shut down go through
the gateway (`gwclient.py`); a run follows the same policy as a local one (`cellrun.py`: the
deadline, the interrupt then restart, a death, a kernel parked or dead since the last run), with
`GatewayError` as its link error: when the gateway itself fails (not there, token refused, gone
mid-run) the run ends `error` with that one line as its output, and the next run reconnects (a
new kernel if the gateway lost the old one). Each kernel works in a private folder it makes on
its own host (`tempfile.mkdtemp`), entered again after every restart; `put_files` and
`read_file` move files in and out of it (`transfer.py`: through the kernel's own execute channel,
since Enterprise Gateway has no contents API). How the kernel is confined is the gateway's
business (its kernel images and process proxies); this module confines nothing.
"""

from __future__ import annotations

import contextlib
import logging

from codegen_ui.core import KernelError
from codegen_ui.kernel.cellrun import CellRunner
from codegen_ui.kernel.gwclient import Channels, GatewayError
from codegen_ui.kernel.gwlink import GatewayLink
from codegen_ui.kernel.runtime import register, unregister

log = logging.getLogger("codegen_ui.kernel")


class GatewayKernel(GatewayLink, CellRunner):
    """One kernel on a gateway with a blocking client. Not thread-safe: one run at a time."""

    link_errors = (GatewayError,)  # the gateway failing ends a run `error`, in its one line

    def __enter__(self) -> GatewayKernel:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    @property
    def sandbox_mode(self) -> str:
        return "none"  # the app applies no sandbox of its own to a gateway's kernel

    @property
    def sandbox_layers(self) -> str:
        if self.kernel_id is None:
            return ""
        return f"the gateway's '{self.gateway.kernel_spec}' kernels + run limits"

    def specs(self) -> list[str]:
        """The kernel specs the gateway offers."""
        return self._api.specs()

    def describe(self) -> str:
        return (
            f"kernels from the gateway at {self.gateway.where} (spec "
            f"'{self.gateway.kernel_spec}'): isolation is the gateway's kernel images and "
            "process proxies; the app keeps the deadlines and output caps"
        )

    # -- life -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Ask the gateway for a kernel (taking a slot), connect, wait until it answers."""
        if self.kernel_id is not None:
            return
        if self.slots is not None and not self._slot:
            self.slots.take()
            self._slot = True
        self.parked = False
        register(self)
        try:
            self._fresh()
        except Exception as exc:
            self.shutdown(keep_folder=True)
            if isinstance(exc, KernelError):
                raise
            raise GatewayError(f"the gateway's kernel could not start: {exc}") from exc

    def restart(self) -> None:
        """A fresh kernel process; a kernel the gateway lost is replaced by a new one."""
        if self.kernel_id is None:
            raise KernelError("the kernel is not started")
        self._close_channels()
        try:
            self._api.restart(self.kernel_id)
        except GatewayError as exc:
            # Enterprise Gateway answers 500, not 404, for a kernel it no longer has; and a
            # gateway whose own restarter is already restarting a dead kernel may refuse ours.
            # `_gone` raises the gateway's line when it cannot be reached at all.
            if self._gone():
                self._fresh()
                return
            log.info("restart refused, joining the gateway's own restart: %s", exc)
        self._connect()

    def park(self) -> None:
        """Stop the remote kernel and free its slot; the next run starts one in the same folder
        (which holds its files where the gateway's host keeps them; a new pod starts empty)."""
        if self.kernel_id is not None:
            self.shutdown(keep_folder=True)
            self.parked = True

    def shutdown(self, keep_folder: bool = False) -> None:
        """Stop the remote kernel (removing its folder unless asked to keep it)."""
        if self._ch is not None and not keep_folder and self.folder is not None:
            # The kernel or the gateway may be gone already: then nothing is left to remove.
            with contextlib.suppress(KernelError):
                self._quiet(f"__import__('shutil').rmtree({self.folder!r}, True)", {}, 5.0)
        self._close_channels()
        if self.kernel_id is not None:
            try:
                self._api.delete(self.kernel_id)
            except GatewayError as exc:
                log.info("gateway kernel not deleted: %s", exc)
            self.kernel_id = None
        if self._slot and self.slots is not None:
            self.slots.give()
            self._slot = False
        if not keep_folder:
            self.folder = None
        self.parked = False
        unregister(self)

    # -- what the shared run policy (`cellrun`) asks of this backend -------------------------

    def _started(self) -> bool:
        return self.kernel_id is not None

    def _client(self) -> Channels | None:
        return self._ch

    def _drop_link(self) -> None:
        self._close_channels()  # the next run finds the kernel dead and restarts or replaces it
