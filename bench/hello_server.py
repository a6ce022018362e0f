"""The baseline: the smallest useful MCP server the official SDK can make (one trivial read tool).

stdio by default (cold start). ``--http --port P`` serves it over streamable HTTP at ``/mcp``, stateless, under
uvicorn at log level warning as ``jobs-mcp serve --http`` runs (throughput).
"""

import argparse
import logging

from mcp.server import MCPServer

server = MCPServer("hello")


@server.tool()
def hello(name: str) -> str:
    """Say hello."""
    return f"hello {name}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", action="store_true", help="streamable HTTP (stateless) instead of stdio")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if args.http:
        import uvicorn

        logging.getLogger().setLevel(logging.WARNING)
        app = server.streamable_http_app(stateless_http=True, host="127.0.0.1")
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
    else:
        server.run()
