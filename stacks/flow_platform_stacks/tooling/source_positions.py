"""The SDK's per-registration stack trace, computed the same way at a fraction of the cost.

Pulumi's Python SDK attaches the program's stack to every resource it registers
(``pulumi.runtime.resource._get_stack_trace``, SDK 3.272): ``traceback.extract_stack()`` (a
``FrameSummary`` per frame, a ``linecache`` check per file and the source line of every frame,
which nobody reads), then ``pathlib.Path(filename).as_uri()`` per frame. Under the offline harness
that was a fifth of a small stack's evaluation. :func:`stack_trace` walks the frames itself, skips
the source lines, and converts each file name to a URI once; the result is the same
``StackTrace`` message (tests/test_source_positions.py compares both at every registration of the
four envs). The harness installs it only while it runs a program (:func:`installed`).
"""

import contextlib
import pathlib
import sys
from collections.abc import Iterator
from types import FrameType

from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

_URIS: dict[str, str | None] = {}


def _uri(filename: str) -> str | None:
    """``_get_source_position_for_frame``'s URI for a file: None where ``as_uri`` refuses."""
    try:
        return _URIS[filename]
    except KeyError:
        pass
    try:
        uri: str | None = pathlib.Path(filename).as_uri()
    except BaseException:  # the SDK's own handling: any failure means no position
        uri = None
    _URIS[filename] = uri
    return uri


def stack_trace() -> source_pb2.StackTrace:
    """``_get_stack_trace()`` as called from the same place (the frames below the concrete
    resource class's ``__init__``: the third ``__init__`` from the top)."""
    frames: list[FrameType] = []  # innermost first; the SDK's list is outermost first
    frame: FrameType | None = sys._getframe(0)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    # the SDK's stack ends with its own _get_stack_trace frame: ours stands in for it
    seen = 0
    cut = None  # index in frames (innermost first) of the third __init__
    for index, candidate in enumerate(frames):
        if candidate.f_code.co_name == "__init__":
            seen += 1
            if seen == 3:
                cut = index
                break
    # the SDK: when the third __init__ is the outermost frame or absent, an empty trace
    if cut is None or cut >= len(frames) - 1:
        return source_pb2.StackTrace()
    out = []
    for candidate in frames[cut + 1 :]:
        filename, lineno = candidate.f_code.co_filename, candidate.f_lineno
        if filename == "" or lineno is None:
            out.append(source_pb2.StackFrame())
            continue
        uri = _uri(filename)
        out.append(
            source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=uri, line=lineno))
            if uri is not None
            else source_pb2.StackFrame()
        )
    return source_pb2.StackTrace(frames=out)


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Use :func:`stack_trace` for the SDK's registrations while the block runs (not where
    ``sys.tracebacklimit`` would shorten the SDK's own trace)."""
    original = sdk_resource._get_stack_trace
    if getattr(sys, "tracebacklimit", None) is not None:
        yield
        return
    sdk_resource._get_stack_trace = stack_trace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original
