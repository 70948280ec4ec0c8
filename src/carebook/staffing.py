"""Staffing offices from demand: the demand forecast and the staffing plan.

Reached at run time as ``cb.staffing`` (:class:`Staffing`); see docs/staffing.md.
"""

from carebook.domain.staffing.forecast import (
    DemandForecast,
    DemandKind,
    DemandRecord,
    ForecastError,
    ForecastModel,
    forecast_demand,
    forecast_error,
    last_week_forecast,
    weekly_counts,
)
from carebook.domain.staffing.plan import (
    CellCoverage,
    ShiftAssignment,
    StaffAvailability,
    StaffingCell,
    StaffingPlan,
    StaffingProblem,
    StaffingRules,
    greedy_staffing,
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
    "ForecastError",
    "ForecastModel",
    "ShiftAssignment",
    "StaffAvailability",
    "Staffing",
    "StaffingCell",
    "StaffingPlan",
    "StaffingProblem",
    "StaffingRules",
    "forecast_demand",
    "forecast_error",
    "greedy_staffing",
    "last_week_forecast",
    "plan_staffing",
    "weekly_counts",
]
