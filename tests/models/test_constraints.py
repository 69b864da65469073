"""Constraint codes by name: the registry saved files' codes are read with."""

import pytest

from models import CODED_OUTPUTS, CONSTRAINTS, OUTPUT_UNITS


def test_codes_are_those_saved_files_hold():
    # samples.nc files written before the registry hold these codes: they must not move
    assert {name: CONSTRAINTS.index(name) for name in CONSTRAINTS} == {
        "supply": 0, "power": 1, "funding": 2, "data": 3, "latency": 4}
    assert CONSTRAINTS.chip_caps == ("supply", "power", "funding")
    assert CONSTRAINTS.walls == ("data", "latency")
    assert CONSTRAINTS[3] == "data" and CONSTRAINTS.index("latency") == 4 and list(CONSTRAINTS)[0] == "supply"


def test_a_group_is_asked_for_by_name_not_by_position():
    with pytest.raises(TypeError, match="by name"):
        CONSTRAINTS[:3]


def test_coded_outputs_name_their_codes():
    assert CONSTRAINTS.flags(CODED_OUTPUTS["chips_cap"]) == {"flag_values": [0, 1, 2],
                                                             "flag_meanings": "supply power funding"}
    assert CONSTRAINTS.flags(CODED_OUTPUTS["binding_constraint"])["flag_values"] == [0, 1, 2, 3, 4]
    assert OUTPUT_UNITS["chips_cap"] == "code: 0=supply, 1=power, 2=funding"
    assert OUTPUT_UNITS["binding_constraint"] == "code: 0=supply, 1=power, 2=funding, 3=data, 4=latency"


def test_a_registry_whose_groups_miss_or_repeat_a_constraint_is_refused():
    from models.bottom_up import Constraints

    with pytest.raises(ValueError, match="chip cap or a wall"):
        Constraints(names=("supply", "power"), chip_caps=("supply",), walls=())
    with pytest.raises(ValueError, match="unique"):
        Constraints(names=("supply", "supply"), chip_caps=("supply", "supply"), walls=())
