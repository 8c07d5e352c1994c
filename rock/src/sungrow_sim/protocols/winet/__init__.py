"""The WiNet-S dongle: WebSocket and getParam server, its messages and its sessions."""

from sungrow_sim.protocols.winet.server import WinetServer, start_winet
from sungrow_sim.protocols.winet.sessions import WinetOptions

__all__ = ["WinetOptions", "WinetServer", "start_winet"]
