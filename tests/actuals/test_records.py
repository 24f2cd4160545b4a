"""Collection records: CSV/Excel import (Chinese headers, GBK), idempotence, corrections."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from recyclenet.actuals.records import (
    Record,
    RecordBook,
    make_record,
    parse_time,
    read_records,
)
from recyclenet.errors import InputError

ZH_HEADER = (
    "磅单号,过磅时间,站点,车牌号,品类,类型,尺寸,毛重（公斤）,皮重(kg),净重(kg),数量,去向,街道\n"
)
ZH_ROWS = (
    "B-001,2026年3月2日 08:30,站点甲,京A12345,废钢铁,,,1250,1000,,,分拣中心,东城\n"
    "B-002,2026/3/2 9:05,站点乙,京A12345,电视机,lcd,42,,,,3,拆解厂,西城\n"
    "B-003,2026-03-03 10:00:00,站点甲,京B00001,scrap_non_ferrous,,,,,80.5,,分拣中心,东城\n"
)


def test_gbk_csv_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "磅单.csv"
    path.write_bytes((ZH_HEADER + ZH_ROWS).encode("gbk"))
    recs = read_records(path)
    assert [r.document_id for r in recs] == ["B-001", "B-002", "B-003"]
    a, b, c = recs
    assert a.time == datetime(2026, 3, 2, 8, 30)
    assert (a.station_id, a.vehicle_id, a.category, a.material) == (
        "站点甲",
        "京A12345",
        "scrap_ferrous",
        "ferrous",
    )
    assert a.net_kg == 250.0 and a.kg == 250.0
    assert (b.category, b.appliance_type, b.size, b.units) == ("tv", "lcd", 42.0, 3.0)
    assert b.kg == 45.0  # 3 TVs x 15 kg from the catalogue, no weight on the receipt
    assert b.destination_id == "拆解厂" and b.district == "西城"
    assert c.net_kg == 80.5 and c.time == datetime(2026, 3, 3, 10)


def test_excel_import(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2023年3月 回收磅单"])  # a title row above the header
    ws.append(["单据号", "日期", "站点编号", "品类", "净重", "数量", "备注"])
    ws.append([1001, datetime(2026, 3, 4, 14, 0), "S1", "冰箱", None, 2, "两台"])
    ws.append(["1002", "2026-03-04", "S2", "scrap_mixed", 33.25, None, None])
    path = tmp_path / "records.xlsx"
    wb.save(path)
    recs = read_records(path)
    assert [r.document_id for r in recs] == ["1001", "1002"]  # numeric id kept as text
    assert recs[0].category == "refrigerator" and recs[0].units == 2 and recs[0].kg == 110
    assert recs[0].time == datetime(2026, 3, 4, 14)
    assert recs[1].time == datetime(2026, 3, 4) and recs[1].net_kg == 33.25
    ws.append(["1003", "someday", "S2", "scrap_mixed", 1, None, None])
    wb.save(path)
    with pytest.raises(InputError, match="row 5, column time"):  # the sheet's own row number
        read_records(path)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("B-9,2026-03-02,S1,,废钢铁,,,100,120,,,,\n", "row 2: record 'B-9': tare_kg=120"),
        ("B-9,2026-03-02,S1,,纸板,,,,,5,,,\n", "row 2, column category: unknown category '纸板'"),
        ("B-9,yesterday,S1,,废钢铁,,,,,5,,,\n", "row 2, column time"),
        ("B-9,2026-03-02,S1,,废钢铁,,,,,abc,,,\n", "row 2, column net_kg: 'abc'"),
        ("B-9,2026-03-02,S1,,废钢铁,,,100,20,70,,,\n", "net_kg=70 is not gross_kg - tare_kg"),
        (",2026-03-02,S1,,废钢铁,,,,,5,,,\n", "row 2, column document_id: empty"),
        ("B-9,2026-03-02,,,废钢铁,,,,,5,,,\n", "give a station_id"),
    ],
)
def test_bad_rows_name_row_and_column(tmp_path: Path, body: str, needle: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(ZH_HEADER + body, encoding="utf-8")
    with pytest.raises(InputError, match=None) as err:
        read_records(path)
    assert needle in str(err.value)
    assert str(path) in str(err.value)


def test_unknown_and_duplicate_columns(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("单号,时间,品类,颜色\n1,2026-01-01,tv,red\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown column.*'颜色'"):
        read_records(path)
    path.write_text("单号,磅单号,时间,品类\n", encoding="utf-8")
    with pytest.raises(InputError, match="'单号' and '磅单号' both mean document_id"):
        read_records(path)


def _rec(doc: str, kg: float, **kw: object) -> Record:
    base = {
        "document_id": doc,
        "time": "2026-03-02 08:00",
        "station_id": "S1",
        "category": "scrap_ferrous",
        "net_kg": kg,
    }
    return make_record({**base, **kw})


def test_reimport_is_idempotent_and_conflicts_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes((ZH_HEADER + ZH_ROWS).encode("gbk"))
    store = tmp_path / "records.jsonl"
    book = RecordBook.load(store)
    first = book.append_to(store, read_records(path))
    assert first.added == ("B-001", "B-002", "B-003") and first.duplicates == ()
    again = RecordBook.load(store)
    second = again.append_to(store, read_records(path))
    assert second.added == () and len(second.duplicates) == 3
    assert len(RecordBook.load(store)) == 3
    assert len(store.read_text(encoding="utf-8").splitlines()) == 3
    with pytest.raises(InputError, match="'B-001' is already recorded with other values"):
        again.add([_rec("B-001", 999.0, station_id="站点甲")])
    assert again.records["B-001"].net_kg == 250.0  # unchanged


def test_correction_keeps_the_original() -> None:
    book = RecordBook()
    book.add([_rec("T1", 100.0), _rec("T2", 50.0)])
    fix = _rec("T1-c", 110.0, corrects="T1", note="re-weighed")
    book.add([fix])
    eff = {r.document_id: r.kg for r in book.effective()}
    assert eff == {"T1-c": 110.0, "T2": 50.0}
    assert book.records["T1"].net_kg == 100.0  # the original is kept
    fix2 = _rec("T1-c2", 105.0, corrects="T1-c")
    book.add([fix2])
    assert sum(r.kg for r in book.effective()) == 155.0
    assert [r.document_id for r in book.corrections_of("T1")] == ["T1-c", "T1-c2"]
    with pytest.raises(InputError, match="corrects='T9', which is not a recorded"):
        book.add([_rec("T3", 1.0, corrects="T9")])
    assert len(book) == 4


def test_batch_is_all_or_nothing() -> None:
    book = RecordBook()
    with pytest.raises(InputError):
        book.add([_rec("A", 1.0), _rec("A", 2.0)])
    assert len(book) == 0


def test_parse_time_forms() -> None:
    assert parse_time("2026年3月5日 8:30") == datetime(2026, 3, 5, 8, 30)
    assert parse_time("2026/3/5 8:30:15") == datetime(2026, 3, 5, 8, 30, 15)
    assert parse_time("2026-03-05T08:30") == datetime(2026, 3, 5, 8, 30)
    with pytest.raises(ValueError, match="not a date-time"):
        parse_time("5 March")
