"""SitingOptions / RoutingOptions: validated, from_mapping, and the one source of every
default the CLI, the API schemas, the batch runner and district siting use."""

from __future__ import annotations

import inspect

import pytest

from recyclenet import cli
from recyclenet.errors import InputError
from recyclenet.options import ROUTING_DEFAULTS, SITING_DEFAULTS, RoutingOptions, SitingOptions
from recyclenet.scale import batch
from recyclenet.scale.siting import site_by_district


def test_from_mapping_aliases_and_errors():
    o = SitingOptions.from_mapping({"norm": 2000, "radius_s": 300, "radius_m": None, "p": None})
    assert (o.households_per_station, o.radius, o.metric) == (2000, 300, "duration_s")
    assert SitingOptions.from_mapping(o.to_dict()) == o
    with pytest.raises(InputError, match=r"unknown option 'nrom'.*norm"):
        SitingOptions.from_mapping({"nrom": 1})
    with pytest.raises(InputError, match="radius_m needs metric distance_m"):
        SitingOptions.from_mapping({"radius_m": 500, "metric": "duration_s"})
    with pytest.raises(InputError, match="model 'kmeans' must be one of"):
        SitingOptions(model="kmeans")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="households_per_station must be a finite number > 0"):
        SitingOptions(households_per_station=0)
    with pytest.raises(InputError, match="p must be an integer >= 1"):
        SitingOptions(p=0)
    with pytest.raises(InputError, match="engine 'cplex'"):
        RoutingOptions.from_mapping({"engine": "cplex"})
    assert RoutingOptions().replace(seed=3).seed == 3


def _cli_default(command, name):
    return inspect.signature(command).parameters[name].default


def test_cli_api_batch_and_district_defaults_come_from_the_options():
    s, r = SITING_DEFAULTS, ROUTING_DEFAULTS
    cli_site = {"model": "model", "profile": "profile", "metric": "metric", "p": "p",
                "radius": "radius", "households_per_station": "norm", "budget": "budget",
                "keep_existing": "keep_existing", "uncoverable": "uncoverable",
                "time_limit_s": "time_limit_s", "seed": "seed"}  # fmt: skip
    for field, param in cli_site.items():
        assert _cli_default(cli.site, param) == getattr(s, field), field
    for field in ("engine", "time_limit_s", "seed", "order_snap_limit_m", "deterministic"):
        assert _cli_default(cli.route, field) == getattr(r, field), field
    batch_names = {"norm": "households_per_station", "radius_m": "radius", "radius_s": "radius"}
    for key in ("model", "profile", "metric", "p", "radius_m", "radius_s", "norm", "budget",
                "keep_existing", "time_limit_s", "seed", "centre_profile", "cell_m",
                "road_spacing_m"):  # fmt: skip
        assert batch.SITING_DEFAULTS[key] == getattr(s, batch_names.get(key, key)), key
    for key in ("engine", "time_limit_s", "seed"):
        assert batch.ROUTING_DEFAULTS[key] == getattr(r, key), key
    district = inspect.signature(site_by_district).parameters
    assert district["households_per_station"].default == s.households_per_station
    assert district["keep_existing"].default == s.keep_existing
    pytest.importorskip("fastapi")
    from recyclenet_api.schemas import RoutingCreate, SitingCreate

    fields = SitingCreate.model_fields
    names = ("model", "profile", "metric", "households_per_station", "keep_existing",
             "uncoverable", "cell_m", "road_spacing_m", "max_snap_distance_m", "seed")
    for name in names:
        assert fields[name].default == getattr(s, name), name
    for name in ("engine", "max_snap_distance_m", "seed", "deterministic"):
        assert RoutingCreate.model_fields[name].default == getattr(r, name), name


def test_plan_functions_take_options_or_keywords():
    from recyclenet.pipeline import plan_routes, plan_siting

    for func, opts in ((plan_siting, SitingOptions), (plan_routes, RoutingOptions)):
        params = inspect.signature(func).parameters
        assert params["options"].default is None
        assert not set(params) & {f for f in opts.__dataclass_fields__}  # one place: options
