"""What the gate tells a caller whose id it cannot use: words kept apart from the logic that picks them."""

UNKNOWN_ID = (
    "Unknown confirmation id: nothing was sent by this call, and this server has no pending proposal of yours under "
    "it. Either it belongs to another MCP session or user (over HTTP without --auth-tokens each session is its own "
    "user: confirm it in the session that proposed it, or on its approval page; with --auth-tokens proposals follow "
    "the person), or the state store lost it (--state memory restarted, or Redis lost its data), in which case the "
    "action may already have run: read the target and check before proposing it again."
)


EXPIRED = (
    "This confirmation id expired unused at {at}; nothing was sent with it. Propose the action again if it is still "
    "wanted."
)
_CHANNEL_WORDS = {"asked": "when the person was asked", "page": "on the approval page", "id": "with confirm_action"}
