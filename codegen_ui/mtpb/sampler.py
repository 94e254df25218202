"""The MTPB sampler: every (problem, test case, sample) generated turn by turn, then scored.

Each sample's history is built as the reference sampler builds it (`program`): the prefix, then
per turn the filled prompt as `# {prompt}\\n` byte for byte, the model's completion (cleaned up
as the reference's decoder does, unless the config says not), cut by the paper's `truncate`,
and a blank line. Execution results never enter the prompt. When a prompt would not fit the
model's context, the oldest whole turns are left out of *that prompt* (the reference instead
cuts every prompt to its first 1024 tokens; the longest prompt is recorded). The whole program
is then run and judged once (`execute`); `--fix` and `--state` (`tries`, off by default) also
run the program so far around each turn. Runs resume; `parallel` runs samples in parallel (in
process the engine thread writes their turns together, up to the `batch_size` setting; a model
server batches them). A model server that fails mid-turn stops the run, keeping the results so
far.

With `prompt_format` "chat" (`RunConfig.prompt_format`) each turn's prompt is the model's chat
template over the same history instead (`core.formats`: one user message per prompt, each
earlier turn's code as the assistant's fenced answer), its answer cut by the chat rules; the
program run and judged is built exactly as in the paper's format, so the scores compare.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from codegen_ui.core import (
    Ask,
    CodeModel,
    Delta,
    Finished,
    Fix,
    SamplingParams,
    cut,
    state_block,
    state_context,
    truncate,
)
from codegen_ui.core import fit as fit_format
from codegen_ui.engine import ModelLoadError
from codegen_ui.evals import sample_seed
from codegen_ui.kernel import Kernel, LiveKernel
from codegen_ui.mtpb.execute import Executor, Verdict
from codegen_ui.mtpb.parallel import run_pool
from codegen_ui.mtpb.problems import Problem
from codegen_ui.mtpb.program import PREFIX, clean_up, turn_piece, wrap
from codegen_ui.mtpb.results import ResultsFile, RunConfig, SampleKey, SampleResult
from codegen_ui.mtpb.tries import Feedback, Tries, fix_tail, fix_turn, state_of, summary_of


@dataclass(frozen=True)
class Generation:
    pieces: tuple[str, ...]  # prompts_completions
    prompt_tokens: int  # the longest prompt
    trimmed_turns: int  # turns left out of prompts, summed
    generate_s: float
    failed: str = ""  # why the sample stopped before its last turn
    tries: Tries | None = None  # the fix tries made (with --fix)


def fit(pieces: list[str], count: Callable[[str], int], budget: int) -> tuple[str, int, int]:
    """The prompt from `pieces` (prefix, then wrapped prompt and code pairs, then the new
    prompt), dropping the oldest pairs until it fits `budget` tokens: (text, tokens, dropped)."""
    pairs = (len(pieces) - 2) // 2
    for dropped in range(pairs + 1):
        text = pieces[0] + "".join(pieces[1 + 2 * dropped :])
        tokens = count(text)
        if tokens <= budget:
            return text, tokens, dropped
    return text, tokens, -1


def complete(
    model: CodeModel, text: str, params: SamplingParams, clean: bool, prompt_format: str = "paper"
) -> tuple[str, int, float]:
    """The model's cut completion of `text` (by the format's rules), its new tokens and seconds."""
    raw, tokens, seconds = "", 0, 0.0
    for event in model.stream(text, params, prompt_format=prompt_format):
        if isinstance(event, Delta):
            raw += event.text
        elif isinstance(event, Finished):
            tokens, seconds = event.new_tokens, event.total_s
            if event.stop_reason == "error":  # a model server failed: stop, keep what is done
                raise ModelLoadError(f"{event.message}; the results so far are kept")
    raw = clean_up(raw) if clean else raw
    return (truncate(raw) if prompt_format == "paper" else cut(prompt_format, raw)), tokens, seconds


def fit_chat(
    model: CodeModel,
    prompts: list[str],
    codes: list[str],
    budget: int,
    max_new: int,
    context: str = "",
    fix: Fix | None = None,
) -> tuple[str, int, int]:
    """The chat prompt for the last of `prompts` after the (prompt, code) pairs before it,
    oldest pairs dropped to fit: (text, tokens, dropped), dropped -1 when nothing fits.
    `context` and `fix` are the `Ask`'s (`--state`, `--fix`)."""
    from codegen_ui.core import PromptTooLongError

    history = list(zip(prompts[:-1], codes, strict=True))
    try:
        fitted = fit_format(
            "chat",
            history,
            Ask(prompts[-1], context, fix),
            model.count_tokens,
            budget + max_new,
            max_new,
            render=model.render_chat,
        )
    except PromptTooLongError:
        return "", budget + 1, -1
    return fitted.text, fitted.tokens, fitted.trimmed


def fix_try(
    model: CodeModel,
    params: SamplingParams,
    clean: bool,
    prompt_format: str,
    asked: list[str],
    codes: list[str],
    budget: int,
    context: str = "",
) -> Callable[[str, str], tuple[str, int, float]]:
    """`write(failed, error)` for `tries.fix_turn`: the model asked to correct the last of
    `asked`'s code, which raised `error`, after the (prompt, code) pairs before it."""
    prefix = [PREFIX, *(piece for pair in zip(asked[:-1], codes, strict=True)
                        for piece in (wrap(pair[0]), turn_piece(pair[1])))]  # fmt: skip

    def write(failed: str, error: str) -> tuple[str, int, float]:
        if prompt_format == "chat":
            wrong = Fix(failed, summary_of(error).text())
            ask = fit_chat(model, asked, codes, budget, params.max_new_tokens, context, wrong)
            if ask[2] < 0:  # no room for the failed code: no try
                return "", 0, 0.0
            return complete(model, ask[0], params, clean, prompt_format)
        text = fit([*prefix, fix_tail(asked[-1], failed, error)], model.count_tokens, budget)[0]
        return complete(model, text, params, clean)

    return write


def generate(
    model: CodeModel,
    prompts: list[str],
    params: SamplingParams,
    clean: bool = True,
    feedback: Feedback | None = None,
    prompt_format: str = "paper",
) -> Generation:
    """One conversation: each prompt wrapped into the history, completed, cut, appended.
    With `feedback` (`--fix`, `--state`), the program so far is run around each turn, and what
    it says is told in the turn's format (`tries`)."""
    pieces = [PREFIX]
    codes: list[str] = []
    longest = trimmed = 0
    seconds = 0.0
    budget = model.context_size - params.max_new_tokens
    tries, runs = Tries(), True  # runs: the program so far raised nothing

    def fitted(last: str) -> tuple[str, int, int]:
        return fit([*pieces[:-1], last], model.count_tokens, budget)

    for number, prompt in enumerate(prompts, 1):
        before = "".join(pieces)
        pieces.append(wrap(prompt))
        state = state_of(feedback, before)
        asked = prompts[:number]
        if prompt_format == "chat":
            text, tokens, dropped = fit_chat(
                model, asked, codes, budget, params.max_new_tokens, state_context(state)
            )
        else:
            text, tokens, dropped = fitted(state_block(state) + wrap(prompt))
        longest = max(longest, tokens)
        if dropped < 0:
            failed = f"turn {number}'s prompt needs {tokens} tokens; only {budget} fit"
            return Generation(tuple(pieces), longest, trimmed, seconds, failed)
        trimmed += dropped
        code, _, spent = complete(model, text, params, clean, prompt_format)
        seconds += spent
        if feedback is not None and feedback.fix and runs:
            said = state_context(state) if prompt_format == "chat" else ""
            write = fix_try(model, params, clean, prompt_format, asked, codes, budget, said)
            code, runs = fix_turn(feedback, before, prompt, code, write, tries)
        codes.append(code)
        pieces.append(turn_piece(code))
    seconds += tries.seconds
    made = tries if feedback is not None and feedback.fix else None
    return Generation(tuple(pieces), longest, trimmed, round(seconds, 3), tries=made)


def run_sample(
    model: CodeModel, executor: Executor, problem: Problem, key: SampleKey, config: RunConfig
) -> SampleResult:
    """Generate one test case's conversation, run its program, and judge its answer."""
    start = time.monotonic()
    case = key[1]
    inputs, gold = problem.cases[case]
    seed = sample_seed(config.seed, *key)
    # A small-context model could not fit 512 new tokens at all; CodeGen (2048) never hits this.
    max_new = min(problem.max_gen_length, model.context_size // 2)
    params = SamplingParams(max_new, config.temperature, config.top_p, seed, config.top_k)
    feedback = None
    if config.fix or config.state:
        feedback = Feedback(executor, config.fix, config.state)
    made = generate(
        model, problem.filled(case), params, config.clean_up, feedback, config.prompt_format
    )
    program = "".join(made.pieces)
    verdict = Verdict("error", made.failed) if made.failed else executor.score(program, gold)
    return SampleResult(
        id=problem.id,
        case=case,
        sample=key[2],
        category=problem.category,
        input=inputs,
        gold_output=gold,
        completions=program,
        prompts_completions=made.pieces,
        **verdict.fields(),
        seed=seed,
        max_new_tokens=max_new,
        prompt_tokens=made.prompt_tokens,
        trimmed_turns=made.trimmed_turns,
        generate_s=made.generate_s,
        fix_tries=made.tries.made if made.tries else 0,
        fix_tokens=made.tries.tokens if made.tries else 0,
        run_s=round(executor.seconds, 3),
        seconds=round(time.monotonic() - start, 3),
        config=config,
    )


def sample_keys(problems: Iterable[Problem], samples: int) -> list[SampleKey]:
    """Every sample of the runnable problems, problem by problem."""
    return [
        (p.id, case, n)
        for p in problems
        if p.runnable
        for case in range(len(p.cases))
        for n in range(samples)
    ]


def run_benchmark(
    problems: list[Problem],
    model: CodeModel,
    config: RunConfig,
    out: Path,
    samples: int = 1,
    workers: int = 1,
    progress: TextIO | None = None,
    kernel_factory: Callable[[], LiveKernel] = Kernel,
) -> list[SampleResult]:
    """Run every sample not yet in `out`; return all results for these problems, in order."""
    results = ResultsFile(out, config)
    keys = sample_keys(problems, samples)
    todo = [k for k in keys if k not in results.results]
    if todo:
        by_id = {p.id: p for p in problems}

        def job(executor: Executor, key: SampleKey) -> SampleResult:
            return run_sample(model, executor, by_id[key[0]], key, config)

        run_pool(todo, job, results, workers, progress, kernel_factory, config.limit_s)
    return [results.results[k] for k in keys]
