"""Staffing offices from demand: the demand forecast and the staffing plan.

Reached at run time as ``cb.staffing`` (:class:`Staffing`); see docs/staffing.md.
"""

from carebook.domain.staffing.forecast import (
    DemandForecast,
    DemandKind,
    DemandRecord,
    ForecastModel,
    forecast_demand,
)
from carebook.domain.staffing.plan import (
    CellCoverage,
    ShiftAssignment,
    StaffAvailability,
    StaffingCell,
    StaffingPlan,
    StaffingProblem,
    StaffingRules,
    plan_staffing,
)
from carebook.services.staffing.service import (
    Staffing,
)

__all__ = [
    "CellCoverage",
    "DemandForecast",
    "DemandKind",
    "DemandRecord",
    "ForecastModel",
    "ShiftAssignment",
    "StaffAvailability",
    "Staffing",
    "StaffingCell",
    "StaffingPlan",
    "StaffingProblem",
    "StaffingRules",
    "forecast_demand",
    "plan_staffing",
]
