"""What the command line's groups share: `CliError`, the model flags and the settings they give,
and how the benchmarks load their model and name their files after it.

Each group module (`converse`, `complete`, `notebooks`, `mtpb`, `humaneval`, `bench`, `doctor`,
`convert`) declares its flags in
`add(sub)` and wires the seams in its `cmd_*` functions; they raise `UserError`s and never
print them, since `codegen_ui.cli.main` maps the whole family to one line and exit status 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from codegen_ui.errors import UserError
from codegen_ui.settings import DEFAULTS, Settings

if TYPE_CHECKING:
    from codegen_ui.core import CodeModel, SamplingParams
    from codegen_ui.evals import RunConfig


class CliError(UserError):
    """A command-line usage failure (a bad flag value, a file that would be overwritten)."""


def add_model_flags(p: argparse.ArgumentParser) -> None:
    add_server_flags(p)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where the model runs")
    p.add_argument("--max-new-tokens", type=int, help="most tokens per turn")
    p.add_argument("--temperature", type=float, help="0 = greedy")
    p.add_argument("--top-p", type=float, help="nucleus sampling mass")
    p.add_argument("--seed", type=int, help="sampling seed")


def add_server_flags(p: argparse.ArgumentParser, prompt_format: str = "auto") -> None:
    """--model, what a model server needs besides (its API key comes from the environment), and
    --prompt-format (whose default, `prompt_format`, the help names)."""
    p.add_argument(
        "--model", help="hub id or local folder of the model, or a model server's URL ending in /v1"
    )
    p.add_argument("--served-model", help="the model's name on the server (default: the one)")
    p.add_argument("--tokenizer", help="the served model's tokenizer, if the server has none")
    add_format_flag(p, prompt_format)


def add_format_flag(p: argparse.ArgumentParser, default: str = "auto") -> None:
    """--prompt-format: the paper's program-as-prompt, the model's own chat template, or auto
    (chat where the model has a chat template)."""
    from codegen_ui.settings import PROMPT_FORMAT_CHOICES

    p.add_argument(
        "--prompt-format",
        choices=PROMPT_FORMAT_CHOICES,
        help=f"how turns become prompts: paper, chat (the model's chat template) or auto "
        f"(chat where the model has a chat template); default {default}",
    )


def add_kernel_flags(p: argparse.ArgumentParser) -> None:
    """Where kernels run: this machine, or a Jupyter (Enterprise) Gateway."""
    p.add_argument(
        "--kernels",
        metavar="URL",
        help="run kernels on the Jupyter Enterprise Gateway at this URL (its token comes from "
        "CODEGEN_UI_GATEWAY_TOKEN); default: on this machine",
    )
    p.add_argument("--kernel-spec", metavar="NAME", help="the gateway's kernel spec to start")


def add_feedback_flags(p: argparse.ArgumentParser) -> None:
    """--auto-fix and --kernel-state: what the model is told besides the history."""
    p.add_argument(
        "--auto-fix",
        type=int,
        choices=range(4),
        metavar="N",
        help=f"tries the model makes at a turn whose code raised, 0-3 (default "
        f"{DEFAULTS.auto_fix})",
    )
    p.add_argument(
        "--kernel-state",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="give the model the kernel's variables and files before each turn (default: "
        f"{'on' if DEFAULTS.kernel_state else 'off'})",
    )


def add_fix_flag(p: argparse.ArgumentParser, what: str) -> None:
    """A benchmark's --fix N: tries at `what` (0-3; 0, the default, is the paper's protocol)."""
    p.add_argument(
        "--fix",
        type=int,
        default=0,
        choices=range(4),
        metavar="N",
        help=f"tries at {what}; 0-3, default 0: the paper's protocol",
    )


def add_run_flags(p: argparse.ArgumentParser, config: type[RunConfig], paper: str) -> None:
    """A benchmark's sampling flags, whose defaults are its run configuration's (the paper's
    sampling, `evals.RunConfig`); `paper` is the temperatures the paper names."""
    c = config
    flags: tuple[tuple[str, type, float, str], ...] = (
        ("--temperature", float, c.temperature, f"0 = greedy (paper: {paper})"),
        ("--top-p", float, c.top_p, f"nucleus mass (paper: {c.top_p:g})"),
        ("--top-k", int, c.top_k, f"likeliest tokens kept (reference: {c.top_k}; 0 = off)"),
        ("--seed", int, c.seed, "base seed; each sample derives its own"),
    )
    for flag, kind, default, text in flags:
        p.add_argument(flag, type=kind, default=default, help=text)


def run_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The shared fields of a benchmark's run configuration, from its flags (`add_run_flags`,
    --prompt-format and --fix)."""
    return {
        "temperature": args.temperature,
        "top_p": args.top_p,
        "top_k": args.top_k,
        "seed": args.seed,
        "prompt_format": benchmark_format(args),
        "fix": args.fix,
    }


def run_stem(stem: str, config: RunConfig) -> str:
    """A results file's name for a run: the model's stem and the shared fields that differ
    between runs (the format and --fix only when not the paper's)."""
    c = config
    name = f"{stem}-t{c.temperature:g}-p{c.top_p:g}-k{c.top_k}-seed{c.seed}"
    name += "" if c.prompt_format == "paper" else f"-{c.prompt_format}"
    return name + (f"-fix{c.fix}" if c.fix else "")


def benchmark_format(args: argparse.Namespace) -> str:
    """A benchmark's prompt format: paper (the reference's) unless --prompt-format names one;
    a results file records one format, so auto is refused."""
    chosen = str(getattr(args, "prompt_format", None) or "paper")
    if chosen == "auto":
        raise CliError("a benchmark records one prompt format: give --prompt-format paper or chat")
    return chosen


def kernel_settings(args: argparse.Namespace) -> dict[str, str | None]:
    """The kernel flags, as `Settings.replace` takes them (unset ones are None)."""
    return {k: getattr(args, k, None) for k in ("kernels", "kernel_spec")}


def settings_from(args: argparse.Namespace) -> Settings:
    """The environment's settings with this command's flags over them (unset flags ignored)."""
    keys = (
        "model", "served_model", "tokenizer", "device", "max_new_tokens", "temperature",
        "top_p", "seed", "run_timeout", "kernels", "kernel_spec", "auto_fix", "kernel_state",
        "prompt_format",
    )  # fmt: skip
    return Settings.from_env().replace(**{k: getattr(args, k, None) for k in keys})


def model_stem(settings: Settings) -> str:
    """A file-name stem for the model a benchmark runs: a folder's or hub id's last part, or a
    server's model name (else its address)."""
    from codegen_ui.engine import is_server_url

    named = settings.model.rstrip("/")
    if is_server_url(named):
        named = settings.served_model.rstrip("/") or urlsplit(named).netloc
    return re.sub(r"[^\w.-]+", "_", Path(named).name)


def load_benchmark_model(settings: Settings) -> CodeModel:
    """The model a benchmark samples, loaded as the settings say, progress on stderr. Never
    the packaged fallback: a benchmark's figures name one model."""
    from codegen_ui.engine import settings_model

    return settings_model(settings, lambda m: print(m, file=sys.stderr), fallback=False)


def sampling_params(settings: Settings) -> SamplingParams:
    """A turn's sampling, from the settings."""
    from codegen_ui.core import SamplingParams

    return SamplingParams(
        settings.max_new_tokens, settings.temperature, settings.top_p, settings.seed
    )
