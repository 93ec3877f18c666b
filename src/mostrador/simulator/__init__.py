"""Cloud API simulator: a sandbox, test double and load generator that speaks Meta's WhatsApp contract.

Public API: :func:`create_simulator_app`, :func:`running_simulator`, :class:`SimulatorConfig`, :class:`SimNumber`,
:class:`Behaviours`, :class:`Simulator` (``app.state.simulator``) and the :mod:`.load` module.
"""

from .app import RunningSimulator, create_simulator_app, running_simulator
from .config import Behaviours, ReviewRule, SimNumber, SimulatorConfig, StatusDelays
from .delivery import sign
from .engine import Simulator
from .state import SimulatorState

__all__ = [
    "Behaviours",
    "ReviewRule",
    "RunningSimulator",
    "SimNumber",
    "Simulator",
    "SimulatorConfig",
    "SimulatorState",
    "StatusDelays",
    "create_simulator_app",
    "running_simulator",
    "sign",
]
