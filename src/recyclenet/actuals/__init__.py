"""The pilot in operation: collection records, plan versus actual, targets, the appliance fund.

* :mod:`.records`: weighbridge tickets and pickup receipts, read from CSV/Excel
  (Chinese headers, GBK), kept by document id, corrected only by correction records.
* :mod:`.compare`: expected (from a siting / routing plan) against collected, by
  station, district, material and period; sorting-centre utilisation; vehicle-km.
* :mod:`.report`: the report section in English or Chinese; :mod:`.run`: the
  composition the CLI and the demo use.
"""

from .compare import Expectation, PlanVsActual, expectation_from_plans, plan_vs_actual
from .records import AddResult, Record, RecordBook, make_record, read_records

__all__ = [
    "AddResult",
    "Expectation",
    "PlanVsActual",
    "Record",
    "RecordBook",
    "expectation_from_plans",
    "make_record",
    "plan_vs_actual",
    "read_records",
]
