"""Careline triage: the engine (pure, no I/O), its rules, and the paging that acts on its results.

The engine's hot modules may be compiled by mypyc (triage/native.py); they are used only while they match
their sources, which are imported otherwise.
"""

from triage.native import guard as _guard

NATIVE_STATUS: str = _guard()
