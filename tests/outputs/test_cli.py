"""The ``forecast`` command line: runs, the prior table, and one-line errors with exit code 2."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import forecast
from outputs import cli
from outputs.cli import main
from tests.figures import check_figures

ROOT = Path(__file__).parents[2]

#: A point-mass world on the command line: MODEL.md's "100K H100 cluster" case.
H100_100K = [
    "--set", "lag_years=0", "--set", "chips_base=1e5", "--set", "chip_growth=1",
    "--set", "chip_flops_growth=1", "--set", "low_precision_year=9999", "--set", "mfu=0.4",
    "--set", "duration_days_base=120", "--set", "duration_growth=1",
    "--set", "power_limit_gw_base=1e6", "--set", "capex_limit_usd_base=1e20",
    "--set", "power_limit_gw_max=1e6", "--set", "capex_limit_usd_max=1e20", "--set", "duration_days_max=365",
    "--set", "text_tokens_base=1e18", "--set", "post_training_fraction_base=0",
    "--set", "critical_batch_exponent=1",
    # one lab whose run uses its whole system: model v3 is model v2 there
    "--labs", "1", "--set", "run_share=1", "--set", "data_wall_softness=0",
]


def test_run_writes_a_complete_folder(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", "--samples", "500", "--out", str(out), "--format", "png,svg"])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"samples.nc", "summary.csv", "summary.md", "timeline.csv", "fan.png", "fan.svg",
            "timeline.png", "constraints.png"} <= names
    printed = capsys.readouterr().out
    assert "2030" in printed and str(out) in printed
    check_figures(out)
    result = forecast.load(out)
    assert result.n_samples == 500 and list(result.years) == list(range(2025, 2036))


def test_run_without_plots_writes_the_same_numbers_and_draws_nothing(tmp_path, monkeypatch):
    """``--format none``: the folder of a run with plots less its plots, the same tables,
    no plot drawn and no drawing process started."""
    args = ["run", "--samples", "500", "--labs", "1", "--keep", "100"]
    assert main([*args, "--out", str(tmp_path / "plots")]) == 0
    from outputs.write import plot_process, run as write_run

    def refused(*_, **__):
        raise AssertionError("drawn")

    monkeypatch.setattr(write_run, "run_plots", refused)
    monkeypatch.setenv("FORECAST_PLOT_PROCESS", "1")  # a drawing process wanted, and safe to fork:
    monkeypatch.setattr(plot_process, "_fork_is_safe", lambda: True)  # but none is started
    monkeypatch.setattr(plot_process.PlotProcess, "start", classmethod(refused))
    assert main([*args, "--format", "none", "--out", str(tmp_path / "none")]) == 0
    with_plots = {p.name for p in (tmp_path / "plots").iterdir()}
    without = {p.name for p in (tmp_path / "none").iterdir()}
    assert without == {name for name in with_plots if not name.endswith(".png")} and "summary.csv" in without
    for name in without - {"samples.nc"}:
        assert (tmp_path / "none" / name).read_bytes() == (tmp_path / "plots" / name).read_bytes(), name


@pytest.mark.parametrize(
    "case, extra, expected",
    [
        ("100K H100, 4 months", [], 1e5 * 1e15 * 0.4 * 120 * 86400),
        ("30K H100, 4 months", ["--set", "chips_base=3e4"], 3e4 * 1e15 * 0.4 * 120 * 86400),
        ("post-training half of pretraining",
         ["--set", "post_training_fraction_base=0.5", "--set", "post_training_fraction_max=2"],
         1.5 * 1e5 * 1e15 * 0.4 * 120 * 86400),
        ("15 epochs, R* = 15.4", ["--set", "chips_base=1e9", "--set", "text_tokens_base=5e13",
                                  "--set", "other_tokens_base=1", "--set", "max_epochs=15",
                                  "--set", "repetition_decay=15.4", "--set", "tokens_per_param_ref=60",
                                  "--set", "tokens_per_param_slope=0", "--set", "tokens_per_param_scale=1"],
         6 * 5e13 * (1 + 15.4 * -math.expm1(-14 / 15.4)) * 5e13 * 15 / 60),
    ],
)
def test_reference_cases_through_the_cli(tmp_path, case, extra, expected):
    out = tmp_path / "ref"
    args = ["run", "--samples", "3", "--years", "2024:2024", "--out", str(out), *H100_100K, *extra]
    assert main(args) == 0, case
    result = forecast.load(out)
    compute = 10 ** result.log10_compute.values.astype(float)
    np.testing.assert_allclose(compute, expected, rtol=1e-5)  # file stores float32 log10


def test_priors_table_lists_every_prior(capsys):
    assert main(["priors"]) == 0
    table = capsys.readouterr().out
    for name in ("chips_base", "mfu", "tokens_per_param_slope"):
        assert name in table
    assert "5e4" in table or "50,000" in table  # chips_base 5e4 to 2e5: its 5th percentile


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--priors", "{bad}"], "bad.toml: invalid TOML"),
        (["run", "--priors", "{unknown}"], "unknown.toml: chip_grwth: "),
        (["run", "--set", "mfu=gamma 1 to 2"], "--set: mfu: unknown distribution"),
        (["run", "--set", "chips_base=lognormal 2e5 to 5e4"], "must be below the 95th"),
        (["run", "--set", "chips_base=lognormal -1 to 5"], "must be positive"),
        (["run", "--set", "mfu=beta 0.2 to 1.3"], "between 0 and 1"),
        (["run", "--years", "2030:2025"], "reversed"),
        (["run", "--years", ":"], "START:END"),
        (["run", "--thresholds", "1e26,zero"], "not a number"),
        (["run", "--format", "png,none"], "--format: unknown image format(s) none"),
    ],
    ids=["toml-syntax", "unknown-name", "unknown-distribution", "reversed-interval",
         "negative-lognormal", "beta-range", "reversed-years", "empty-years", "bad-threshold", "none-among-formats"],
)
def test_bad_input_is_one_line_exit_2_and_no_folder(tmp_path, capsys, args, message):
    (tmp_path / "bad.toml").write_text("[priors.mfu\nspec = 0.4\n")
    (tmp_path / "unknown.toml").write_text('[priors.chip_grwth]\nspec = "lognormal 1 to 2"\n')
    args = [a.format(bad=tmp_path / "bad.toml", unknown=tmp_path / "unknown.toml") for a in args]
    out = tmp_path / "out"
    assert main([*args, "--samples", "10", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not out.exists()
    assert not any(p.name.startswith(".out") for p in tmp_path.iterdir())


def test_zero_samples_is_refused_with_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "outputs.cli", "run", "--samples", "0", "--out", str(tmp_path / "o")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "--samples" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_existing_folder_is_never_overwritten_without_force(tmp_path, capsys):
    out = tmp_path / "keep"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["run", "--samples", "10", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"
    assert main(["run", "--samples", "10", "--out", str(out), "--force"]) == 0
    assert not (out / "notes.txt").exists() and (out / "samples.nc").exists()


def test_default_folder_name_is_new_each_time(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--samples", "10"]) == 0
    assert main(["run", "--samples", "10"]) == 0
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(folders) == 2 and all(p.name.startswith("forecast-default-") for p in folders)
    assert math.isfinite(float(forecast.load(folders[0]).log10_compute.max()))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seed", "99999999999999999999"], "--seed: must be a whole number from 0 to"),
        (["--seed", "-3"], "--seed: must be a whole number from 0 to"),
        (["--samples", "100000000000", "--keep", "all"], "--keep: keeping 100,000,000,000 worlds over 11 years would need about"),
        (["--years", "2035:2025"], "--years: the range '2035:2025' is reversed"),
    ],
    ids=["huge-seed", "negative-seed", "keep-beyond-memory", "reversed-years"],
)
def test_settings_the_library_refuses_name_the_flag(tmp_path, capsys, args, message):
    """The library names its parameters (``seed: ...``); the command line names its flags."""
    out = tmp_path / "out"
    assert main(["run", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "override, message",
    [
        ("power_limit_gw_max=0", "--set: power_limit_gw_max: '0' reaches values in [0, 0]"),
        ("capex_limit_usd_max=-1e11", "--set: capex_limit_usd_max:"),
        ("post_training_fraction_base=-0.1", "--set: post_training_fraction_base:"),
    ],
    ids=["zero-power-ceiling", "negative-capital-ceiling", "negative-post-training"],
)
def test_impossible_ceilings_and_fractions_name_the_key(tmp_path, capsys, override, message):
    out = tmp_path / "out"
    assert main(["run", "--samples", "10", "--set", override, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not out.exists()


def test_listing_the_commands_loads_no_engine():
    """``forecast --help`` lists every command without importing one (each imports JAX): of
    the project, only the packages' lazy entry points and what they import at once (the
    errors, the domains) load."""
    code = ("import sys; from outputs.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('jax', 'numpy', 'matplotlib', 'priors.prior_set', 'priors.families', 'forecast')"
            " if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    assert "sweep" in proc.stdout and "what would you need to believe" in proc.stdout


@pytest.mark.parametrize(
    "setting, starts_again",
    [
        (dict(), True),
        (dict(huge_pages="always madvise [never]\n"), False),  # none to be had
        (dict(huge_pages="[always] madvise never\n"), False),  # every large mapping has them already
        (dict(libc="glibc 2.34"), False),  # no such tunable before 2.35
        (dict(libc="glibc 2.40"), True),
        (dict(libc="musl 1.2"), False),
        (dict(libc="glibc"), False),
        (dict(tunables="glibc.malloc.hugetlb=0"), False),  # the user's choice
        (dict(tunables=f"glibc.malloc.arena_max=2:{cli.HUGE_PAGES}"), False),  # started again already
        (dict(tunables="glibc.malloc.arena_max=2"), True),
        (dict(platform="darwin"), False),
    ],
)
def test_the_program_starts_again_on_huge_pages_only_where_it_helps(setting, starts_again):
    machine = dict(platform="linux", tunables="", libc="glibc 2.36", huge_pages="always [madvise] never\n")
    assert cli._huge_pages_help(**(machine | setting)) is starts_again


def test_the_program_started_again_has_its_arguments_streams_and_process():
    """Where the machine asks for it, the program starts again in its own process (same PID)
    with the tunable added to the user's, and the same arguments; where it does not, it runs
    on as it is. Either way once: the second start sees the tunable."""
    code = ("import os, sys\nfrom outputs import cli\nprint('start', os.getpid(), flush=True)\n"
            "cli._with_huge_pages()\nprint('run', os.getpid(), os.environ.get('GLIBC_TUNABLES'), sys.argv[1:])\n")
    env = {name: value for name, value in os.environ.items() if not name.startswith("COVERAGE")}
    env["GLIBC_TUNABLES"] = "glibc.malloc.arena_max=8"
    proc = subprocess.run([sys.executable, "-c", code, "a", "b c"], capture_output=True, text=True, check=True,
                          env=env, cwd=ROOT)
    lines = proc.stdout.splitlines()
    pid = lines[0].split()[1]
    if cli._huge_pages_help(tunables=""):
        assert lines == [f"start {pid}", f"start {pid}",
                         f"run {pid} glibc.malloc.arena_max=8:{cli.HUGE_PAGES} ['a', 'b c']"]
    else:
        assert lines == [f"start {pid}", f"run {pid} glibc.malloc.arena_max=8 ['a', 'b c']"]


def test_the_program_starts_again_once_whatever_glibc_keeps(monkeypatch):
    """A privileged process (setuid, file capabilities) has glibc drop the tunable from the
    environment: the second start knows itself by a mark of its own, removes it and runs on;
    where exec fails, the environment is as it was."""
    calls = []
    monkeypatch.setattr(cli, "_huge_pages_help", lambda: True)
    monkeypatch.setattr(cli, "_observed", lambda: False)
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append(
        (os.environ.get("GLIBC_TUNABLES"), os.environ.get(cli._STARTED_AGAIN))))
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    monkeypatch.setenv(cli._STARTED_AGAIN, "1")
    cli._with_huge_pages()  # the second start, its tunable dropped by glibc
    assert calls == [] and cli._STARTED_AGAIN not in os.environ

    def refused(path, argv):
        calls.append((os.environ.get("GLIBC_TUNABLES"), os.environ.get(cli._STARTED_AGAIN)))
        raise ValueError("embedded")

    monkeypatch.setattr(os, "execv", refused)
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    cli._with_huge_pages()  # the first start, exec refused: run on as it was
    assert calls == [(f"glibc.malloc.arena_max=2:{cli.HUGE_PAGES}", "1")]
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2" and cli._STARTED_AGAIN not in os.environ
