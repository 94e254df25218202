"""`codegen-ui doctor`: which sandbox layers kernels get on this host, checked on a live kernel.

Prints the requested and the resolved sandbox mode, every layer with whether it is active and
why, then (unless `--no-check`) starts one kernel with the server's settings and tries the
escapes of `codegen_ui.kernel.escape_checks` against this process, one line each. Exit status 0
when every attempt was contained, 1 otherwise. It changes nothing on the host but the kernel's
own temporary folder.

With `--kernels URL` (or the `kernels` setting) it checks a gateway's kernels instead: the
specs it offers, then, from inside two of its kernels, what `gateway_checks` can see (the
folder, another kernel's folder, secrets in the environment, the parent process, names
outside, the process cap), and, when the gateway runs on this host, the escapes above too.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from codegen_ui.settings import SANDBOX_MODES, Settings


def add(sub: Any) -> None:
    p = sub.add_parser("doctor", help="print the kernel sandbox's active layers and check them")
    p.add_argument("--sandbox", choices=SANDBOX_MODES, help="mode to check (default: settings)")
    p.add_argument("--no-check", action="store_true", help="only print the layers")
    p.add_argument("--kernels", metavar="URL", help="check the kernels of this gateway instead")
    p.add_argument("--kernel-spec", metavar="NAME", help="the gateway's kernel spec to check")
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from codegen_ui.kernel import Kernel, KernelConfig, kernels_root, sandbox_info

    settings = Settings.from_env().replace(kernels=args.kernels, kernel_spec=args.kernel_spec)
    if settings.kernels:
        return _doctor_gateway(settings, args.no_check)
    if args.sandbox:
        settings = settings.replace(sandbox=args.sandbox)
    config = KernelConfig.from_settings(settings)
    info = sandbox_info(config.sandbox)
    print(f"requested sandbox: {config.sandbox}; kernels run in mode: {info.mode}")
    for layer in info.layers():
        print(f"  [{'x' if layer.active else ' '}] {layer.name:12} {layer.detail}")
    print(f"kernels' folders: {kernels_root(config.kernels_dir)}")
    if args.no_check:
        return 0
    with tempfile.TemporaryDirectory(prefix="codegen-ui-doctor-") as tmp:
        secret = Path(tmp)
        secret.chmod(0o755)  # readable by others too: only the sandbox may stop the kernel
        (secret / "secret.txt").write_text("not for kernels")
        with Kernel(config=config) as kernel:
            checks = _checks(kernel, secret)
    return _report(checks)


def _report(checks: list[Any]) -> int:
    for check in checks:
        print(f"  {'contained' if check.contained else 'OPEN     '}  {check.name}: {check.detail}")
    open_ = [c.name for c in checks if not c.contained]
    print("every attempt was contained" if not open_ else f"not contained: {', '.join(open_)}")
    return 1 if open_ else 0


def _doctor_gateway(settings: Settings, no_check: bool) -> int:
    """The gateway's specs, then the checks from inside two of its kernels."""
    from urllib.parse import urlsplit

    from codegen_ui.kernel import (
        GatewayConfig,
        GatewayKernel,
        KernelConfig,
        escape_checks,
        gateway_checks,
    )

    gateway = GatewayConfig.from_settings(settings)
    config = KernelConfig.from_settings(settings)
    first, second = GatewayKernel(gateway, config), GatewayKernel(gateway, config)
    print(first.describe())
    specs = first.specs()
    print(f"kernel specs offered: {', '.join(specs) or 'none'}; checking '{gateway.kernel_spec}'")
    if no_check:
        return 0
    local = urlsplit(gateway.url).hostname in ("127.0.0.1", "localhost", "::1")
    with first, second:
        checks = gateway_checks(first, first.folder or "", second.folder, gateway.token)
        if local:  # the gateway is on this host: this process's own escapes mean something
            with tempfile.TemporaryDirectory(prefix="codegen-ui-doctor-") as tmp:
                secret = Path(tmp)
                secret.chmod(0o755)
                (secret / "secret.txt").write_text("not for kernels")
                checks += [c for c in escape_checks(first, secret) if not c.name.startswith("fork")]
        else:
            print("  (the gateway is on another host: this host's own escapes are not tried)")
    return _report(checks)


def _checks(kernel: Any, secret: Path) -> list[Any]:
    from codegen_ui.kernel import escape_checks

    return escape_checks(kernel, secret)
