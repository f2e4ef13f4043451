"""The node: the party's log writer (sequencer), key files, and later federation. Does I/O."""
