"""The "fast" precision: smaller weights for a loaded torch model, converted in place.

On CPU, decoding one token reads every weight once, so it is bound by memory bandwidth. Each
linear layer becomes `Int8WeightLinear`: int8 weights with one bfloat16 scale per output row
(a quarter of float32's bytes), multiplied by aten's weight-only kernel
(`_weight_int8pack_mm`) with the activations in bfloat16 as they are, never quantised. No
scale is shared by the rows of a pass, so each row's result is the same whoever else is in the
batch ("same seed, same code" holds in a classroom, as in "exact"). The token embedding keeps
its own module with its table in float16 (`half_embedding`), since one row of it is read per
token. "repeatable", the name of this batch-invariant precision when "fast" was PyTorch's
dynamic int8 (deprecated upstream, and it broke models with outlier activations), is the same
precision on CPU. On CUDA "fast" is float16 from the load and "repeatable" float32. What it
costs: int8 rounding changes the logits slightly, so greedy decoding can pick a different token
where the top two are close; the guard at load (`probe`) measures that on each model. The
"exact" precision (float32) never comes here.

`load_int8` builds the fast model without ever holding the float32 checkpoint whole: the
model's skeleton is made with its weights allocated but never written (so not resident), the
small tensors are read into it, and each linear layer's weight is read from the safetensors
file (plain reads, no memory map, whose pages would stay resident), converted to int8 exactly
as `quantize_weight_only` would, and its float32 copy dropped before the next is read.
`Float32Source` rebuilds the same model in float32 one module at a time, for the guard.
Imported only by the transformers backend.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn


def half_embedding(model: Any) -> None:
    """Store the input embedding's table in float16 (one row of it is read per token), keeping
    the family's own module: its forward (a scale such as Gemma's x sqrt(width), a padding
    row) runs as before, on float16 rows, and its output is handed on as float32."""
    embeddings = model.get_input_embeddings()
    if isinstance(embeddings, nn.Embedding) and embeddings.weight.dtype == torch.float32:
        # A new parameter: a head tied to the table keeps its own (float32 or int8) copy.
        embeddings.weight = nn.Parameter(embeddings.weight.detach().half(), requires_grad=False)
        embeddings.register_forward_hook(_as_float32)
    _trim()  # the float32 table and layers just replaced


def _as_float32(_module: nn.Module, _inputs: Any, output: Any) -> Any:
    if isinstance(output, torch.Tensor) and output.dtype == torch.float16:
        return output.float()
    return output


# The weight-only kernel reads the reduction axis in blocks of 16 and gives garbage (or worse)
# for other widths, so such layers keep their float32 weights.
_INT8PACK_BLOCK = 16
_ROWS_AT_ONCE = 4096  # rows of a weight converted together (see Int8WeightLinear)


def _int8pack_mm() -> Any | None:
    return getattr(torch.ops.aten, "_weight_int8pack_mm", None)


class Int8WeightLinear(nn.Module):
    """A linear layer with int8 weights (one bfloat16 scale per output row) that multiplies
    bfloat16 activations: no activation scale is shared between rows, and the kernel computes
    each row on its own, so a row's result never depends on the rest of the batch."""

    weight_int8: torch.Tensor
    scales: torch.Tensor

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        w = weight.detach().float()
        scales = torch.empty(w.shape[0], dtype=torch.bfloat16)
        q = torch.empty(w.shape, dtype=torch.int8)
        # A block of rows at a time: float32 temporaries of a whole head (vocabulary x width)
        # would set the peak memory of loading.
        for start in range(0, w.shape[0], _ROWS_AT_ONCE):
            rows = w[start : start + _ROWS_AT_ONCE]
            scale = (rows.abs().amax(dim=1).clamp(min=1e-12) / 127).to(torch.bfloat16)
            scales[start : start + _ROWS_AT_ONCE] = scale
            block = torch.round(rows / scale.float()[:, None]).clamp(-127, 127)
            q[start : start + _ROWS_AT_ONCE] = block.to(torch.int8)
        self.register_buffer("weight_int8", q.contiguous())
        self.register_buffer("scales", scales)
        self.register_buffer("bias", None if bias is None else bias.detach().float().clone())
        self.in_features = w.shape[1]
        self.out_features = w.shape[0]

    @property
    def weight(self) -> torch.Tensor:
        """The weight in float32, dequantised at each access: for a family's code that reads a
        layer's weight outside its forward (Mamba's `dt_proj.weight @ x`, a head's dtype).
        Right, not fast."""
        return self.weight_int8.float() * self.scales.float()[:, None]

    @staticmethod
    def fits(linear: nn.Linear) -> bool:
        return _int8pack_mm() is not None and linear.in_features % _INT8PACK_BLOCK == 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features).to(torch.bfloat16).contiguous()
        y = torch.ops.aten._weight_int8pack_mm(rows, self.weight_int8, self.scales).float()
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features)


def weight_only(linear: nn.Linear) -> nn.Module:
    """The "repeatable" form of one layer: `Int8WeightLinear`, or the layer as it is where the
    kernel cannot take its width."""
    return Int8WeightLinear(linear.weight, linear.bias) if Int8WeightLinear.fits(linear) else linear


def kernel_agrees() -> bool:
    """Whether this CPU's weight-only int8 kernel computes what float32 does (to int8
    rounding): checked once on a random layer, so a broken kernel falls back to float32."""
    if _int8pack_mm() is None:
        return False
    gen = torch.Generator().manual_seed(0)
    layer = nn.Linear(64, 48)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(48, 64, generator=gen))
        x = torch.randn(3, 64, generator=gen)
        try:
            got = Int8WeightLinear(layer.weight, layer.bias)(x)
        except RuntimeError:
            return False
        want = layer(x)
    return bool((got - want).abs().max() <= 0.05 * want.abs().max())


def quantize_weight_only(model: nn.Module) -> int:
    """Replace the model's nn.Linear layers by `Int8WeightLinear` where they fit; how many."""
    converted = 0
    for path in [n for n, m in model.named_modules() if type(m) is nn.Linear]:
        parent_path, _, child_name = path.rpartition(".")
        parent = model.get_submodule(parent_path)
        child = getattr(parent, child_name)
        new = weight_only(child)
        if new is not child:
            setattr(parent, child_name, new)
            converted += 1
    return converted


def make_fast(model: Any, device: str, precision: str = "fast") -> str:
    """Convert `model` in place for speed on `device` in `precision` ("fast", or
    "repeatable", the same on CPU); returns a note for `describe()`."""
    if device.startswith("cuda"):
        return "float16" if precision == "fast" else "float32: repeatable int8 is a CPU precision"
    if not any(isinstance(m, Int8WeightLinear) for m in model.modules()):
        if not kernel_agrees():
            return "float32: this torch has no working weight-only int8 kernel"
        if not quantize_weight_only(model):
            return "float32: no layer fits the weight-only int8 kernel"
    half_embedding(model)
    return "int8 weights, bfloat16 activations, batch-invariant"


def release_freed_memory() -> None:
    """Hand the float32 weights just freed back to the OS (glibc keeps freed heap otherwise)."""
    gc.collect()
    _trim()


def _trim() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


# safetensors' dtype names (the file format's header), for the ones a checkpoint holds.
_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}


class SafetensorsFiles:
    """The tensors of a (possibly sharded) safetensors checkpoint, each read on demand with
    plain file reads into a fresh tensor."""

    def __init__(self, files: list[Path]) -> None:
        self.where: dict[str, tuple[Path, int, torch.dtype, list[int], int]] = {}
        for path in files:
            with path.open("rb") as f:
                (size,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(size))
            for key, info in header.items():
                if key == "__metadata__":
                    continue
                start, end = info["data_offsets"]
                dtype = _DTYPES[info["dtype"]]
                self.where[key] = (path, 8 + size + start, dtype, info["shape"], end - start)

    def read(self, key: str) -> torch.Tensor:
        path, offset, dtype, shape, nbytes = self.where[key]
        raw = torch.empty(nbytes, dtype=torch.uint8)
        with path.open("rb") as f:
            f.seek(offset)
            if f.readinto(raw.numpy().data) != nbytes:
                raise OSError(f"{path} ends inside tensor {key!r}")
        return raw.view(dtype).reshape(shape)


def safetensors_files(folder: Path) -> list[Path] | None:
    """The checkpoint's safetensors files (one, or the shards of an index); None if neither."""
    single = folder / "model.safetensors"
    if single.is_file():
        return [single]
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        return [folder / s for s in shards]
    return None


def load_fast_cpu(name: str, local_files_only: bool) -> tuple[Any, Float32Source] | None:
    """`load_int8` for a model folder or hub id, or None (see there) so the caller loads as
    usual; a hub id's single-file checkpoint is fetched (or found in the cache) first."""
    if not kernel_agrees():
        return None  # loaded as float32; `make_fast` says why
    from transformers import AutoConfig
    from transformers.utils import cached_file

    folder = Path(name)
    if not folder.is_dir():
        found = cached_file(
            name,
            "model.safetensors",
            local_files_only=local_files_only,
            _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_connection_errors=False,
        )
        if not found:
            return None
        folder = Path(found).parent
    config = AutoConfig.from_pretrained(name, local_files_only=local_files_only)
    return load_int8(folder, config)


def _names(model: Any) -> dict[int, list[str]]:
    """Every name of each tensor of the model (a tied weight has several), by its id."""
    names: dict[int, list[str]] = {}
    for name, tensor in [
        *model.named_parameters(remove_duplicate=False),
        *model.named_buffers(remove_duplicate=False),
    ]:
        names.setdefault(id(tensor), []).append(name)
    return names


def tensor_sources(model: Any, store: SafetensorsFiles) -> dict[int, str] | None:
    """The checkpoint's name for each stored tensor of the model, by its id (tied weights are
    satisfied by any of their names); None when a stored tensor is not in the checkpoint
    under any of its names."""
    persistent = set(model.state_dict())
    source: dict[int, str] = {}
    for key, group in _names(model).items():
        found = [n for n in group if n in store.where and n in persistent]
        if found:
            source[key] = found[0]
        elif any(n in persistent for n in group):
            return None
    return source


def load_int8(folder: Path, config: Any) -> tuple[Any, Float32Source] | None:
    """The CPU "fast" model (`Int8WeightLinear` layers where they fit, the rest float32), read
    layer by layer from a local safetensors checkpoint; None when this path does not apply (no
    safetensors file, names the model does not use as they are), so the caller loads as
    usual. `make_fast` then
    finishes it (the float16 embedding) as for any model. With it, where its float32 weights
    are in the checkpoint (`Float32Source`), for the probe."""
    from transformers import AutoModelForCausalLM
    from transformers.initialization import no_init_weights

    files = safetensors_files(folder)
    if files is None:
        return None
    store = SafetensorsFiles(files)
    with no_init_weights():  # allocated, never written: those pages are never resident
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.tie_weights()  # skipped with the initialisation above; a tied head is not stored
    names = _names(model)
    tensors = {id(t): t for t in [*model.parameters(), *model.buffers()]}
    source = tensor_sources(model, store)
    if source is None:
        return None  # a weight under a name of its own (a converted checkpoint): not here
    # By name: a list of the modules themselves would keep every float32 copy alive.
    linears = [n for n, m in model.named_modules() if type(m) is nn.Linear]
    only_linear = {f"{n}.weight" for n in linears}
    with torch.no_grad():
        # Everything now but what only linear layers use (a weight tied to the embedding is
        # read now, and again below for the linear layer's own int8 copy).
        for key, name in source.items():
            if not set(names[key]) <= only_linear:
                tensors[key].copy_(store.read(name))
        del tensors
        for path in linears:
            parent_path, _, child_name = path.rpartition(".")
            parent = model.get_submodule(parent_path)
            child = getattr(parent, child_name)
            if id(child.weight) in source:
                child.weight = nn.Parameter(
                    store.read(source[id(child.weight)]).float(), requires_grad=False
                )
            setattr(parent, child_name, weight_only(child))
            del child
            # glibc may keep freed buffers of this size on its heap for reuse rather
            # than unmapping them: hand each layer's float32 copy back now.
            _trim()
    _trim()  # (no collection of cycles: it costs seconds in a large process)
    return model.eval(), Float32Source(store, config)


class Float32Source:
    """The float32 model of a checkpoint `load_int8` converted, built again for the probe
    (`codegen_ui.engine.probe`): the family's own modules from its config, each module's
    weights read from the checkpoint when a pass reaches it and dropped after it (to the meta
    device), so the float32 model is never whole in memory and shares no module with the
    converted one."""

    def __init__(self, store: SafetensorsFiles, config: Any) -> None:
        self.store = store
        self.config = config

    @contextlib.contextmanager
    def model(self) -> Iterator[Any]:
        """The float32 model, for passes inside the block; None if its names do not match."""
        from transformers import AutoModelForCausalLM
        from transformers.initialization import no_init_weights

        with no_init_weights():  # allocated, never written, as in `load_int8`
            model = AutoModelForCausalLM.from_config(self.config, dtype=torch.float32)
        model.tie_weights()
        keys = tensor_sources(model, self.store)
        handles: list[Any] = []
        try:
            if keys is None:
                yield None
                return
            with torch.no_grad():
                for buffer in model.buffers():
                    if id(buffer) in keys:
                        buffer.copy_(self.store.read(keys[id(buffer)]))
            for module in model.modules():
                own = [(n, keys.get(id(p), "")) for n, p in module.named_parameters(recurse=False)]
                own = [(n, k) for n, k in own if k]
                if own:
                    handles.append(module.register_forward_pre_hook(self._reader(own)))
                    handles.append(module.register_forward_hook(_dropper(own)))
                _drop(module, [n for n, _ in module.named_parameters(recurse=False)])
            yield model.eval()
        finally:
            for handle in handles:
                handle.remove()
            del model
            _trim()

    def _reader(self, own: list[tuple[str, str]]) -> Any:
        def read(module: nn.Module, _inputs: Any) -> None:
            for name, key in own:
                weight = self.store.read(key).float()
                setattr(module, name, nn.Parameter(weight, requires_grad=False))

        return read


def _dropper(own: list[tuple[str, str]]) -> Any:
    def drop(module: nn.Module, _inputs: Any, _output: Any) -> None:
        _drop(module, [name for name, _ in own])

    return drop


def _drop(module: nn.Module, names: list[str]) -> None:
    """Replace the module's own parameters `names` by ones of the same shape on the meta
    device: no memory, and no stale values."""
    for name in names:
        meta = torch.empty_like(getattr(module, name), device="meta")
        setattr(module, name, nn.Parameter(meta, requires_grad=False))
