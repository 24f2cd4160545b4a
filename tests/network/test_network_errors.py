"""Every bad road-network input raises a specific error that names the file or value."""

from __future__ import annotations

import gzip

import networkx as nx
import numpy as np
import pytest

import recyclenet as rn

FOOTWAYS_ONLY = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" version="1" lat="30.000" lon="120.000"/>
  <node id="2" version="1" lat="30.000" lon="120.001"/>
  <node id="3" version="1" lat="30.001" lon="120.001"/>
  <way id="1" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>
  <way id="2" version="1"><nd ref="2"/><nd ref="3"/><tag k="highway" v="cycleway"/></way>
  <way id="3" version="1"><nd ref="3"/><nd ref="1"/><tag k="highway" v="pedestrian"/></way>
</osm>
"""

NO_HIGHWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" version="1" lat="30.000" lon="120.000"/>
  <node id="2" version="1" lat="30.000" lon="120.001"/>
  <way id="1" version="1"><nd ref="1"/><nd ref="2"/><tag k="waterway" v="river"/></way>
</osm>
"""


@pytest.mark.parametrize(
    "name",
    ["missing.osm.pbf", "missing.osm", "missing.osm.gz", "missing.osm.bz2", "missing.graphml"],
)
def test_missing_file(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(rn.NetworkError, match="not found") as info:
        rn.load_network(path)
    assert str(path) in str(info.value)


def test_corrupt_pbf_random_bytes(tmp_path):
    path = tmp_path / "random.osm.pbf"
    path.write_bytes(np.random.default_rng(4096).bytes(4096))
    with pytest.raises(rn.NetworkError) as info:
        rn.load_network(path)
    assert "random.osm.pbf" in str(info.value)
    assert "OpenStreetMap" in str(info.value)


def test_truncated_pbf(tmp_path, town_formats):
    data = town_formats["osm.pbf"].read_bytes()
    path = tmp_path / "half.osm.pbf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(rn.NetworkError, match=r"half\.osm\.pbf"):
        rn.load_network(path)


def test_truncated_gzip(tmp_path, town_osm):
    packed = gzip.compress(town_osm.read_bytes())
    path = tmp_path / "cut.osm.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(rn.NetworkError, match=r"cut\.osm\.gz"):
        rn.load_network(path)


@pytest.mark.parametrize("name", ["noise.osm.gz", "noise.osm.bz2", "noise.osm"])
def test_random_bytes_with_osm_names(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(1024).bytes(1024))
    with pytest.raises(rn.NetworkError, match=name.replace(".", r"\.")):
        rn.load_network(path)


@pytest.mark.parametrize(
    "text",
    [
        "<html><body><p>not a map</p></body></html>",
        '<?xml version="1.0"?><gpx version="1.1"><trk/></gpx>',
        '<osm version="0.6"><node id="1" lat="1" lon="1"></osm',  # not well-formed
    ],
)
def test_xml_that_is_not_osm(tmp_path, text):
    path = tmp_path / "page.osm"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(rn.NetworkError) as info:
        rn.load_network(path)
    assert "page.osm" in str(info.value)


def test_empty_file(tmp_path):
    path = tmp_path / "zero.osm.pbf"
    path.write_bytes(b"")
    with pytest.raises(rn.NetworkError, match=r"empty.*zero\.osm\.pbf"):
        rn.load_network(path)


def test_file_with_only_footways(tmp_path):
    path = tmp_path / "paths.osm"
    path.write_text(FOOTWAYS_ONLY, encoding="utf-8")
    with pytest.raises(rn.NetworkError) as info:
        rn.load_network(path)
    msg = str(info.value)
    assert "paths.osm" in msg
    assert "drivable" in msg


def test_file_without_highways(tmp_path):
    path = tmp_path / "river.osm"
    path.write_text(NO_HIGHWAYS, encoding="utf-8")
    with pytest.raises(rn.NetworkError, match=r"river\.osm.*no highway"):
        rn.load_network(path)


def test_no_roads_for_this_vehicle(tmp_path):
    path = tmp_path / "nohgv.osm"
    text = FOOTWAYS_ONLY
    for highway in ("footway", "cycleway", "pedestrian"):
        text = text.replace(
            f'<tag k="highway" v="{highway}"/>',
            '<tag k="highway" v="residential"/><tag k="hgv" v="no"/>',
        )
    path.write_text(text, encoding="utf-8")
    assert rn.load_network(path).n_edges == 6  # fine for a car
    with pytest.raises(rn.NetworkError) as info:
        rn.load_network(path, profile="truck_18t")
    assert "nohgv.osm" in str(info.value)
    assert "truck_18t" in str(info.value)


def test_unknown_format(tmp_path):
    path = tmp_path / "roads.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(rn.NetworkError, match=r"roads\.csv.*\.osm\.pbf"):
        rn.load_network(path)


def test_directory_instead_of_file(tmp_path):
    path = tmp_path / "folder.osm"
    path.mkdir()
    with pytest.raises(rn.NetworkError, match="not a file"):
        rn.load_network(path)


def test_corrupt_graphml(tmp_path):
    path = tmp_path / "broken.graphml"
    path.write_text("this is not xml", encoding="utf-8")
    with pytest.raises(rn.NetworkError, match=r"broken\.graphml"):
        rn.load_network(path)


def test_graphml_without_roads(tmp_path):
    g = nx.MultiDiGraph()
    g.add_edge(1, 2)
    path = tmp_path / "plain.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(rn.NetworkError, match=r"plain\.graphml"):
        rn.load_network(path)


def test_unknown_profile(town_osm):
    with pytest.raises(rn.InputError) as info:
        rn.load_network(town_osm, profile="bus")
    msg = str(info.value)
    assert "'bus'" in msg
    assert "truck_18t" in msg  # lists the choices
    with pytest.raises(rn.InputError, match="bus"):
        rn.get_profile("bus")


def test_errors_are_value_errors():
    assert issubclass(rn.InputError, ValueError)
    assert issubclass(rn.NetworkError, rn.InputError)
    assert issubclass(rn.SnapError, rn.NetworkError)
    assert issubclass(rn.InputError, rn.RecyclenetError)


@pytest.mark.online
def test_download_place():
    net = rn.load_network("Krems an der Donau, Austria")
    assert net.n_nodes > 100
    west, south, east, north = net.bbox
    assert 15.4 < west < east < 15.8 and 48.3 < south < north < 48.5


@pytest.mark.online
def test_download_bbox():
    net = rn.load_network("bbox:24.935,60.165,24.945,60.172")
    assert net.n_nodes > 10


def test_bad_bbox_is_rejected_before_download():
    with pytest.raises(rn.NetworkError, match="bad bbox"):
        rn.load_network("bbox:25,60,24,61")
