"""Settings: defaults, parsing, clear errors, and the README's table kept true."""

from __future__ import annotations

import pytest
from conftest import ROOT

from codyskool.config import OPTIONS, ConfigError, Limits, load_config, parse_pool_sizes


def test_defaults_are_the_documented_limits() -> None:
    limits = Limits.from_config(load_config({}))
    times = (limits.cpu_time_limit_s, limits.wall_time_limit_s, limits.prompt_idle_limit_s)
    assert times == (10.0, 30.0, 300.0)
    assert (limits.memory_limit_mb, limits.pids_limit) == (256, 64)
    assert (limits.output_limit_bytes, limits.code_limit_bytes, limits.stdin_limit_bytes) == (
        1 << 20, 64 << 10, 1 << 20)


def test_environment_overrides_a_default() -> None:
    config = load_config({"CODYSKOOL_MEMORY_LIMIT_MB": "128", "CODYSKOOL_POOL_SIZES": "python=3,c=1"})
    assert config["MEMORY_LIMIT_MB"] == 128
    assert config["POOL_SIZES"] == {"python": 3, "c": 1}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CODYSKOOL_MEMORY_LIMIT_MB", "lots"),
        ("CODYSKOOL_CPU_TIME_LIMIT_S", "-1"),
        ("CODYSKOOL_BACKEND", "kubernetes"),
        ("CODYSKOOL_ALLOW_PUBLIC_LOCAL", "maybe"),
        ("CODYSKOOL_POOL_SIZES", "python"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_config({variable: value})


def test_pool_sizes() -> None:
    assert parse_pool_sizes("off") == {} and parse_pool_sizes("0") == {}
    assert parse_pool_sizes(" python=2 , ruby=0 ") == {"python": 2}


def test_the_readme_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [option.env for option in OPTIONS if f"`{option.env}`" not in readme]
    assert missing == [], "README.md's configuration table is out of date: python -m codyskool options"
