"""wmss_engine: the PyTorch side of wmss.

The Go server embeds CPython and calls the functions listed in
``wmss_engine.api.__all__`` through ``wmss_engine._bridge.dispatch``; the same
functions run as a plain program with ``python3 -m wmss_engine``. Arguments
and results are JSON-serialisable; tensors stay on the Python side.
"""
