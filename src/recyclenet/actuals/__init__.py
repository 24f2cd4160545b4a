"""The pilot in operation: collection records, plan versus actual, targets, the appliance fund.

* :mod:`.records`: weighbridge tickets and pickup receipts, read from CSV/Excel
  (Chinese headers, GBK), kept by document id, corrected only by correction records.
"""

from .records import AddResult, Record, RecordBook, make_record, read_records

__all__ = ["AddResult", "Record", "RecordBook", "make_record", "read_records"]
