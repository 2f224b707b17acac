"""Read every scalar of TensorBoard event files, as data, without TensorBoard's 10k-point reservoir sampling.

An event file is a TFRecord stream: per record ``uint64 length | uint32 masked_crc32c(length) | data |
uint32 masked_crc32c(data)``, each ``data`` an ``Event`` protobuf. We walk the records ourselves (instead of
``EventAccumulator``) so that a corrupt record is reported with its file, index and byte offset, and a file cut
mid-record (a live or killed writer) keeps the records before the cut with a warning. Scalars are written
either as ``simple_value`` (torch's ``SummaryWriter``, tensorboardX) or as a 0-d ``tensor`` with the
``scalars`` plugin (TF2 ``tf.summary.scalar``); both are read.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
from tensorboard.util import tensor_util

_HEADER = struct.Struct("<QI")


def _records(data: bytes, label: str, warnings: list[str]):
    """Yield (index, payload) for each record; a cut tail becomes a warning, a bad checksum an error."""
    pos, index, n = 0, 0, len(data)
    while pos < n:
        if n - pos < _HEADER.size:
            warnings.append(f"{label}: file ends inside the header of record {index} (byte {pos}); kept {index}")
            return
        length, length_crc = _HEADER.unpack_from(data, pos)
        if masked_crc32c(data[pos : pos + 8]) != length_crc:
            raise ValueError(
                f"{label}: record {index} at byte {pos} has a bad length checksum; "
                "this is not a TensorBoard event file or it is corrupt"
            )
        start, end = pos + _HEADER.size, pos + _HEADER.size + length
        if end + 4 > n:
            warnings.append(f"{label}: record {index} at byte {pos} is truncated (file cut mid-record); kept {index}")
            return
        payload = data[start:end]
        (data_crc,) = struct.unpack_from("<I", data, end)
        if masked_crc32c(payload) != data_crc:
            raise ValueError(f"{label}: record {index} at byte {pos} has a bad data checksum (corrupt file)")
        yield index, payload
        pos, index = end + 4, index + 1


def _scalar(value) -> float | None:
    if value.HasField("simple_value"):
        return float(value.simple_value)
    if value.HasField("tensor") and value.metadata.plugin_data.plugin_name == "scalars":
        array = tensor_util.make_ndarray(value.tensor)
        if array.size == 1:
            return float(array.reshape(()))
    return None


def read_event_bytes(data: bytes, label: str, warnings: list[str]) -> list[tuple[str, int, float, float]]:
    """Rows ``(tag, step, wall_time, value)`` of one event file's bytes; ``label`` names it in messages."""
    rows = []
    for index, payload in _records(data, label, warnings):
        event = event_pb2.Event()
        try:
            event.ParseFromString(payload)
        except Exception as e:  # protobuf's DecodeError; the checksum passed, so the writer wrote garbage
            raise ValueError(f"{label}: record {index} is not an Event protobuf ({e})") from None
        if not event.HasField("summary"):
            continue
        for value in event.summary.value:
            scalar = _scalar(value)
            if scalar is not None:
                rows.append((value.tag, int(event.step), float(event.wall_time), scalar))
    return rows


def event_files(path: Path) -> list[Path]:
    """The event files at ``path``: the file itself, or every ``*tfevents*`` file below a directory."""
    path = Path(path)
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*tfevents*") if p.is_file())
    if not files:
        raise ValueError(f"{path}: no TensorBoard event files (events.out.tfevents.*) in this directory")
    return files


def wide_from_rows(rows: list[tuple[str, int, float, float]]):
    """Pivot ``(tag, step, wall_time, value)`` rows to one row per step; a repeated (tag, step) keeps the last."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["tag", "step", "wall_time", "value"])
    values = frame.pivot_table(index="step", columns="tag", values="value", aggfunc="last")
    wall = frame.groupby("step")["wall_time"].max()
    values.columns.name = None
    out = values.reset_index()
    out.insert(1, "wall_time", wall.reindex(out["step"]).to_numpy(dtype=np.float64))
    return out
