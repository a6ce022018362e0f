"""What every platform simulator shares: fault injection, the in-process transport and a document store.

Each simulator itself lives in its provider's package (``jobs_mcp.providers.<name>.simulator``).
"""

from jobs_mcp.sandbox.docstore import DocStore
from jobs_mcp.sandbox.faults import ConnectionDropped, FaultInjector, parse_fault_spec
from jobs_mcp.sandbox.transport import SandboxTransport

__all__ = ["ConnectionDropped", "DocStore", "FaultInjector", "SandboxTransport", "parse_fault_spec"]
