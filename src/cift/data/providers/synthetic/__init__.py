"""The ``synthetic`` provider: a seeded, deterministic market simulator.

Fat-tailed returns with GARCH volatility, a U-shaped day, bid-ask bounce and an order
flow that carries a small real signal, over the sessions of an exchange calendar.
``docs/simulator.md`` gives the model and every parameter.
"""

from cift.data.providers.synthetic.config import SimulatorConfig
from cift.data.providers.synthetic.factories import create
from cift.data.providers.synthetic.provider import SyntheticProvider

__all__ = ["SimulatorConfig", "SyntheticProvider", "create"]
