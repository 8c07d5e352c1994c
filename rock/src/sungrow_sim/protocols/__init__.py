"""The wire: Modbus TCP (plain and encrypted) and the WiNet-S dongle, over one register source.

Adapters see the simulator only through `RegisterSource` / `RegisterStore` and apply
injected transport faults through `TransportFaults`, the same way for every protocol.
"""

from sungrow_sim.protocols.source import RegisterSource, RegisterStore
from sungrow_sim.protocols.transport import Effect, TransportFaults, effect_of

__all__ = ["Effect", "RegisterSource", "RegisterStore", "TransportFaults", "effect_of"]
