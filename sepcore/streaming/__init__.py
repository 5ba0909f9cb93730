"""Real-time streaming of causal models: block by block, with the model's state cached.

    from sepcore.streaming import Stream
    stream = Stream(model)                # an nn.Module or a sepcore.load(...) result
    for block in blocks:                  # float32 [time] blocks of any length
        out = stream.process(block)       # [sources, m]: the samples now final
    out = stream.finish()                 # the rest; the concatenation == model(x)

Each streamable model has an implementation of the small interface in
sepcore/streaming/base.py (``init_state``, ``step``, ``flush``); ``streamer_for``
finds it, or raises NotCausalError naming the model and why it cannot stream.
"""

from sepcore.streaming.base import NotCausalError, StreamingModel, streamer_for
from sepcore.streaming.convtasnet import ConvTasNetStreamer
from sepcore.streaming.crn import CRNStreamer
from sepcore.streaming.engine import Stream, stream_array

__all__ = ["CRNStreamer", "ConvTasNetStreamer", "NotCausalError", "Stream", "StreamingModel",
           "stream_array", "streamer_for"]
