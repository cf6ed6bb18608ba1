"""evokafka: a terminal console for Evolution API event streams in Kafka."""

import os

__version__ = "0.1.0"

# The frame that answers a key press waits for the screen's next update slot: Textual's default of 60 a second
# leaves up to 17 ms, 120 leaves 8 (measured under the flood bench: key p50 32-39 -> 28 ms), 240 leaves 4 (three
# alternating flood runs each: key p50 26-28 -> 24-25 ms, p99 40-54 -> 34-38 ms; frames per second, CPU and
# terminal bytes the same). A screen updates only when something on it changed, so the cap costs nothing when
# idle. Set here because Textual reads it once, when first imported, and every entry point (the evokafka script,
# python -m tui...) imports this package first; TEXTUAL_FPS in the environment wins.
os.environ.setdefault("TEXTUAL_FPS", "240")
