"""Pocket from Python: the C library (include/pocket.h) over ctypes, standard library only.

    import pocket
    with pocket.Model("model.gguf", mmproj="mmproj.gguf") as model:
        print(model.chat([{"role": "user", "content": "What is in this image?"}], images=["cat.jpg"]))
        for piece in model.chat([{"role": "user", "content": "Tell me more."}], stream=True):
            print(piece, end="", flush=True)

The library is found through $POCKET_LIBRARY, else the system's loader path (an installed
libpocket.so.0), else a build tree beside this package (../build/src/api). Errors raise
pocket.PocketError carrying the library's status and message. Models and sessions free their
native memory on close() / leaving a `with` block (and, as a fallback, when collected).
"""
import ctypes
import ctypes.util
import json
import os
import queue
import threading
from dataclasses import dataclass, field
from typing import Iterator, List, Optional

__all__ = ["Model", "Session", "Reply", "PocketError", "library"]

API_VERSION = 1  # the POCKET_API_VERSION these bindings are written against


class PocketError(Exception):
    """A failed library call: `status` (pocket_status), `status_name` and the library's message."""

    def __init__(self, status: int, status_name: str, message: str):
        super().__init__(f"{status_name}: {message}")
        self.status, self.status_name, self.message = status, status_name, message


_cb_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t, ctypes.c_void_p)


class _ModelParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("n_threads", ctypes.c_int32), ("n_ctx", ctypes.c_int64),
                ("mmproj", ctypes.c_char_p), ("quant", ctypes.c_char_p), ("allow_download", ctypes.c_int32)]


class _ModelInfo(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("architecture", ctypes.c_char_p), ("name", ctypes.c_char_p),
                ("n_ctx_train", ctypes.c_int64), ("n_vocab", ctypes.c_int64), ("n_embd", ctypes.c_int64),
                ("has_vision", ctypes.c_int32), ("has_video", ctypes.c_int32), ("has_tools", ctypes.c_int32),
                ("has_chat_template", ctypes.c_int32)]


class _SessionParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("n_ctx", ctypes.c_int64), ("n_batch", ctypes.c_int64)]


class _GenerateParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("max_tokens", ctypes.c_int32), ("temperature", ctypes.c_float),
                ("top_k", ctypes.c_int32), ("top_p", ctypes.c_float), ("min_p", ctypes.c_float),
                ("repeat_penalty", ctypes.c_float), ("repeat_last_n", ctypes.c_int32), ("seed", ctypes.c_uint64),
                ("stop", ctypes.POINTER(ctypes.c_char_p)), ("n_stop", ctypes.c_size_t),
                ("json_object", ctypes.c_int32), ("json_schema", ctypes.c_char_p), ("tool_choice", ctypes.c_char_p),
                ("completion", ctypes.c_int32),
                ("print_special", ctypes.c_int32), ("on_text", _cb_type), ("user_data", ctypes.c_void_p)]


class _Result(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("text", ctypes.POINTER(ctypes.c_char)), ("text_len", ctypes.c_size_t),
                ("tool_calls_json", ctypes.c_char_p), ("finish_reason", ctypes.c_char_p),
                ("n_prompt_tokens", ctypes.c_int64), ("n_image_tokens", ctypes.c_int64),
                ("n_generated_tokens", ctypes.c_int64), ("encode_seconds", ctypes.c_double),
                ("prefill_seconds", ctypes.c_double), ("decode_seconds", ctypes.c_double)]


def _find_library() -> str:
    env = os.environ.get("POCKET_LIBRARY")
    if env:
        return env
    found = ctypes.util.find_library("pocket")
    if found:
        return found
    here = os.path.dirname(os.path.abspath(__file__))
    candidate = os.path.join(here, "..", "..", "build", "src", "api", "libpocket.so")
    if os.path.exists(candidate):
        return candidate
    raise OSError("libpocket not found: set POCKET_LIBRARY to the path of libpocket.so")


_lib = None
_lib_lock = threading.Lock()


def library() -> ctypes.CDLL:
    """The loaded libpocket, with every function's signature declared."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        lib = ctypes.CDLL(_find_library())
        P, S = ctypes.c_void_p, ctypes.c_int
        sig = {
            "pocket_status_name": (ctypes.c_char_p, [S]),
            "pocket_api_version": (S, []),
            "pocket_version": (ctypes.c_char_p, []),
            "pocket_last_error": (ctypes.c_char_p, []),
            "pocket_model_default_params": (None, [ctypes.POINTER(_ModelParams)]),
            "pocket_model_load": (S, [ctypes.c_char_p, ctypes.POINTER(_ModelParams), ctypes.POINTER(P)]),
            "pocket_model_free": (None, [P]),
            "pocket_model_get_info": (S, [P, ctypes.POINTER(_ModelInfo)]),
            "pocket_tokenize": (S, [P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int32, ctypes.c_int32,
                                    ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
            "pocket_detokenize": (S, [P, ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t, ctypes.c_int32,
                                      ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
            "pocket_session_default_params": (None, [ctypes.POINTER(_SessionParams)]),
            "pocket_session_create": (S, [P, ctypes.POINTER(_SessionParams), ctypes.POINTER(P)]),
            "pocket_session_free": (None, [P]),
            "pocket_session_set_system": (S, [P, ctypes.c_char_p]),
            "pocket_session_set_tools": (S, [P, ctypes.c_char_p]),
            "pocket_session_add_message": (S, [P, ctypes.c_char_p, ctypes.c_char_p]),
            "pocket_session_add_tool_result": (S, [P, ctypes.c_char_p, ctypes.c_char_p]),
            "pocket_session_add_image_file": (S, [P, ctypes.c_char_p]),
            "pocket_session_add_image_bytes": (S, [P, ctypes.c_char_p, ctypes.c_size_t]),
            "pocket_session_add_image_rgb": (S, [P, ctypes.c_char_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_size_t]),
            "pocket_session_add_video_file": (S, [P, ctypes.c_char_p]),
            "pocket_session_clear": (S, [P]),
            "pocket_generate_default_params": (None, [ctypes.POINTER(_GenerateParams)]),
            "pocket_session_generate": (S, [P, ctypes.POINTER(_GenerateParams), ctypes.POINTER(_Result)]),
            "pocket_session_cancel": (None, [P]),
        }
        for name, (restype, argtypes) in sig.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes
        if lib.pocket_api_version() < API_VERSION:
            raise OSError(f"libpocket API {lib.pocket_api_version()} is older than these bindings ({API_VERSION})")
        _lib = lib
        return lib


def _check(status: int) -> None:
    if status != 0:
        lib = library()
        raise PocketError(status, lib.pocket_status_name(status).decode(), lib.pocket_last_error().decode("utf-8", "replace"))


def _b(s: Optional[str]) -> Optional[bytes]:
    return None if s is None else os.fsencode(s) if isinstance(s, os.PathLike) else s.encode("utf-8")


@dataclass
class Reply:
    text: str
    finish_reason: str
    tool_calls: List[dict] = field(default_factory=list)
    prompt_tokens: int = 0
    image_tokens: int = 0
    completion_tokens: int = 0
    encode_seconds: float = 0.0
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0


_GEN_KEYS = ("max_tokens", "temperature", "top_k", "top_p", "min_p", "repeat_penalty", "repeat_last_n", "seed")


class _Native:
    """A native handle freed by close(), by leaving a `with` block, or (fallback) when collected."""
    _h = None
    _free = ""   # the pocket_*_free function
    _what = ""

    def close(self) -> None:
        if self._h:
            getattr(library(), self._free)(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _handle(self):
        if not self._h:
            raise PocketError(1, "invalid argument", f"the {self._what} is closed")
        return self._h


class Model(_Native):
    """A loaded model (GGUF file, checkpoint folder or store name), shared by its sessions."""
    _free, _what = "pocket_model_free", "model"

    def __init__(self, model: str, mmproj: Optional[str] = None, n_threads: int = 0, n_ctx: int = 0,
                 quant: Optional[str] = None, allow_download: bool = False):
        lib = library()
        p = _ModelParams()
        lib.pocket_model_default_params(ctypes.byref(p))
        p.n_threads, p.n_ctx, p.allow_download = n_threads, n_ctx, int(allow_download)
        self._keep = (_b(mmproj), _b(quant))
        p.mmproj, p.quant = self._keep
        handle = ctypes.c_void_p()
        _check(lib.pocket_model_load(_b(os.fspath(model)), ctypes.byref(p), ctypes.byref(handle)))
        self._h = handle

    @property
    def info(self) -> dict:
        i = _ModelInfo()
        i.size = ctypes.sizeof(i)
        _check(library().pocket_model_get_info(self._handle(), ctypes.byref(i)))
        return {"architecture": i.architecture.decode(), "name": i.name.decode(), "n_ctx_train": i.n_ctx_train,
                "n_vocab": i.n_vocab, "n_embd": i.n_embd, "vision": bool(i.has_vision), "video": bool(i.has_video),
                "tools": bool(i.has_tools), "chat_template": bool(i.has_chat_template)}

    def tokenize(self, text: str, add_special: bool = True, parse_special: bool = True) -> List[int]:
        data = text.encode("utf-8")
        n = ctypes.c_size_t()
        lib = library()
        status = lib.pocket_tokenize(self._handle(), data, len(data), int(add_special), int(parse_special), None, 0,
                                     ctypes.byref(n))
        if status not in (0, 7):  # 7: POCKET_ERR_BUFFER_TOO_SMALL, n holds the count
            _check(status)
        buf = (ctypes.c_int32 * max(1, n.value))()
        _check(lib.pocket_tokenize(self._handle(), data, len(data), int(add_special), int(parse_special), buf,
                                   n.value, ctypes.byref(n)))
        return list(buf[: n.value])

    def detokenize(self, ids: List[int], skip_special: bool = False) -> str:
        arr = (ctypes.c_int32 * max(1, len(ids)))(*ids)
        n = ctypes.c_size_t()
        lib = library()
        status = lib.pocket_detokenize(self._handle(), arr, len(ids), int(skip_special), None, 0, ctypes.byref(n))
        if status not in (0, 7):
            _check(status)
        buf = ctypes.create_string_buffer(n.value + 1)
        _check(lib.pocket_detokenize(self._handle(), arr, len(ids), int(skip_special), buf, n.value + 1, ctypes.byref(n)))
        return buf.raw[: n.value].decode("utf-8", "replace")

    def session(self, n_ctx: int = 0, n_batch: int = 0) -> "Session":
        return Session(self, n_ctx=n_ctx, n_batch=n_batch)

    def chat(self, messages: List[dict], images=(), videos=(), stream: bool = False, system: Optional[str] = None,
             tools: Optional[list] = None, **params):
        """One reply to `messages` ([{"role", "content"}]) in a fresh session; images and videos go
        to the last user message. Returns the text, or with stream=True a generator of pieces."""
        s = Session(self)
        try:
            if system is not None:
                s.set_system(system)
            if tools is not None:
                s.set_tools(tools)
            for m in messages:
                s.add(m["role"], m.get("content") or "")
            for v in videos:
                s.add_video(v)
            for im in images:
                s.add_image(im)
        except BaseException:
            s.close()
            raise
        if not stream:
            with s:
                return s.generate(**params).text

        def pieces():
            with s:
                yield from s.stream(**params)
        return pieces()


class Session(_Native):
    """One conversation; use it from one thread at a time (cancel() from any)."""
    _free, _what = "pocket_session_free", "session"

    def __init__(self, model: Model, n_ctx: int = 0, n_batch: int = 0):
        lib = library()
        p = _SessionParams()
        lib.pocket_session_default_params(ctypes.byref(p))
        p.n_ctx, p.n_batch = n_ctx, n_batch
        handle = ctypes.c_void_p()
        _check(lib.pocket_session_create(model._handle(), ctypes.byref(p), ctypes.byref(handle)))
        self._h, self._model = handle, model  # the model must outlive the session

    def set_system(self, text: str) -> None:
        _check(library().pocket_session_set_system(self._handle(), _b(text)))

    def set_tools(self, tools: Optional[list]) -> None:
        _check(library().pocket_session_set_tools(self._handle(), None if tools is None else _b(json.dumps(tools))))

    def add(self, role: str, text: str, images=(), videos=()) -> None:
        _check(library().pocket_session_add_message(self._handle(), _b(role), _b(text)))
        for v in videos:
            self.add_video(v)
        for im in images:
            self.add_image(im)

    def add_tool_result(self, tool_call_id: str, content: str) -> None:
        """A tool's result for a call of an earlier reply (Reply.tool_calls[i]["id"])."""
        _check(library().pocket_session_add_tool_result(self._handle(), _b(tool_call_id), _b(content)))

    def add_image(self, image) -> None:
        """A path, encoded bytes (JPEG, PNG, ...), or (rgb_bytes, width, height)."""
        lib = library()
        if isinstance(image, (bytes, bytearray, memoryview)):
            data = bytes(image)
            _check(lib.pocket_session_add_image_bytes(self._handle(), data, len(data)))
        elif isinstance(image, tuple):
            rgb, width, height = image
            rgb = bytes(rgb)
            _check(lib.pocket_session_add_image_rgb(self._handle(), rgb, width, height, len(rgb)))
        else:
            _check(lib.pocket_session_add_image_file(self._handle(), os.fsencode(image)))

    def add_video(self, path) -> None:
        _check(library().pocket_session_add_video_file(self._handle(), os.fsencode(path)))

    def clear(self) -> None:
        _check(library().pocket_session_clear(self._handle()))

    def cancel(self) -> None:
        if self._h:
            library().pocket_session_cancel(self._h)

    def _params(self, on_text, stop=None, json_object=False, json_schema=None, tool_choice=None, completion=False,
                print_special=False, **kw):
        unknown = set(kw) - set(_GEN_KEYS)
        if unknown:  # refused by name, never dropped
            raise TypeError(f"unknown generation parameter(s): {', '.join(sorted(unknown))}")
        p = _GenerateParams()
        library().pocket_generate_default_params(ctypes.byref(p))
        for k, v in kw.items():
            setattr(p, k, v)
        keep = [on_text]
        if stop:
            arr = (ctypes.c_char_p * len(stop))(*[_b(s) for s in stop])
            keep.append(arr)
            p.stop, p.n_stop = arr, len(stop)
        p.json_object, p.completion, p.print_special = int(json_object), int(completion), int(print_special)
        if json_schema is not None:
            schema = _b(json_schema if isinstance(json_schema, str) else json.dumps(json_schema))
            keep.append(schema)
            p.json_schema = schema
        if tool_choice is not None:
            choice = _b(tool_choice)
            keep.append(choice)
            p.tool_choice = choice
        if on_text is not None:
            p.on_text = on_text
        return p, keep

    def generate(self, on_text=None, **params) -> Reply:
        """The assistant's reply (appended to the conversation). on_text(piece) is called as text
        arrives; returning False from it stops generation."""
        cb = None
        if on_text is not None:
            def cb_fn(ptr, n, _user):
                return 0 if on_text(ctypes.string_at(ptr, n).decode("utf-8", "replace")) is False else 1
            cb = _cb_type(cb_fn)
        p, keep = self._params(cb, **params)
        r = _Result()
        r.size = ctypes.sizeof(r)
        _check(library().pocket_session_generate(self._handle(), ctypes.byref(p), ctypes.byref(r)))
        del keep
        return Reply(text=ctypes.string_at(r.text, r.text_len).decode("utf-8", "replace"),
                     finish_reason=r.finish_reason.decode(), tool_calls=json.loads(r.tool_calls_json.decode()),
                     prompt_tokens=r.n_prompt_tokens, image_tokens=r.n_image_tokens,
                     completion_tokens=r.n_generated_tokens, encode_seconds=r.encode_seconds,
                     prefill_seconds=r.prefill_seconds, decode_seconds=r.decode_seconds)

    def stream(self, **params) -> Iterator[str]:
        """The reply as a generator of text pieces; closing the generator early cancels it."""
        q: "queue.Queue" = queue.Queue()
        done = object()
        outcome = {}

        def run():
            try:
                outcome["reply"] = self.generate(on_text=q.put, **params)
            except BaseException as e:  # re-raised in the consumer
                outcome["error"] = e
            finally:
                q.put(done)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            while True:
                item = q.get()
                if item is done:
                    break
                yield item
        finally:
            if worker.is_alive():
                self.cancel()
                worker.join()
        if "error" in outcome:
            raise outcome["error"]
