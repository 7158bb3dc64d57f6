"""The detector registry: names -> import strings, plugins by entry point and by UNSPUN_PLUGINS,
saved directories read back by the import string in their ``kind`` (and by the short kinds of
earlier versions), the options each detector takes and the one error for one it does not."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from unspun.detect import registry
from unspun.detect.registry import (
    available_detectors,
    create_detector,
    detector_options,
    kind_of,
    register,
    saved_class,
)
from unspun.errors import ConfigError

PLUGIN_SOURCE = '''
"""A detector plugin, as a user would write one."""

from unspun.detect.base import Scores
from unspun.detect.registry import register


class Constant:
    """{description}"""

    name = "{name}"
    version = "1"
    settings = {{}}

    def __init__(self, value: float = 0.5) -> None:
        self.value = value

    def score(self, texts, *, passages=True):
        return [Scores(document=self.value) for _ in texts]

    def save(self, directory):
        raise NotImplementedError

{register}
'''


@pytest.fixture(autouse=True)
def _forget_registrations(monkeypatch):
    """Names registered by a test are gone after it, as in a new process."""
    monkeypatch.setattr(registry, "_registered", dict(registry._registered))


def write_plugin(folder: Path, module: str, name: str, *, registers: bool) -> None:
    call = f"register({name!r}, Constant, 'constant score')" if registers else ""
    source = PLUGIN_SOURCE.format(description="constant score", name=name, register=call)
    (folder / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")


def test_a_module_in_unspun_plugins_registers_by_calling_register(tmp_path, monkeypatch):
    write_plugin(tmp_path, "reg_plugin_env", "constant-env", registers=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("UNSPUN_PLUGINS", "reg_plugin_env")
    assert available_detectors()["constant-env"] == "constant score"
    assert detector_options("constant-env") == {"value": 0.5}
    assert create_detector("constant-env", value=0.75).score(["a"])[0].document == 0.75


def test_an_installed_package_registers_through_its_entry_point(tmp_path, monkeypatch):
    write_plugin(tmp_path, "reg_plugin_ep", "unused", registers=False)
    dist = tmp_path / "reg_plugin_ep-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: reg-plugin-ep\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[unspun.detectors]\nconstant-ep = reg_plugin_ep:Constant\n", encoding="utf-8"
    )
    assert "constant-ep" not in available_detectors()
    monkeypatch.syspath_prepend(str(tmp_path))
    # The description is the first line of the factory's docstring.
    assert available_detectors()["constant-ep"] == "constant score"
    detector = create_detector("constant-ep")
    assert detector.score(["x", "y"])[1].document == 0.5
    with pytest.raises(ConfigError, match="--colour"):
        create_detector("constant-ep", colour="red")


def test_register_takes_a_factory_or_an_import_string():
    register("registry-test-by-string", "unspun.detect.zeroshot.stats:GLTRDetector", "gltr again")
    assert detector_options("registry-test-by-string") == detector_options("gltr")
    with pytest.raises(ConfigError, match="'default' is not a detector"):
        register("default", "x:y")
    register("registry-test-broken", "no_such_module_xyz:factory", "broken")
    with pytest.raises(ConfigError, match="cannot import 'no_such_module_xyz:factory'"):
        create_detector("registry-test-broken")


def test_the_default_follows_unspun_detector(monkeypatch):
    monkeypatch.setenv("UNSPUN_DETECTOR", "encoder")
    assert registry.resolve_name("default") == "encoder"
    assert detector_options("default") == detector_options("encoder")
    monkeypatch.delenv("UNSPUN_DETECTOR")
    assert registry.resolve_name("default") == "hidden-state"
    assert registry.resolve_name("gltr") == "gltr"
    assert "default" in available_detectors()


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown detector 'nope'") as caught:
        create_detector("nope")
    assert "binoculars" in str(caught.value) and "default" in str(caught.value)


def test_unknown_options_name_the_detector_and_what_it_takes():
    with pytest.raises(ConfigError) as caught:
        create_detector("likelihood", observer="x", performer="y")
    message = str(caught.value)
    assert message.startswith("detector 'likelihood' does not take --observer, --performer")
    assert "--model" in message and "--max-tokens" in message
    # None means "not given", as the CLI passes options the user left out.
    assert "observer" not in registry.check_options("likelihood", {"observer": None})


def test_shipped_directories_name_their_class_by_import_string():
    from unspun.detect.language_model import LanguageModelDetector, shipped_directory
    from unspun.detect.supervised import shipped_directory as shipped_encoder
    from unspun.detect.supervised.model import SupervisedDetector

    for directory, cls in (
        (shipped_encoder(), SupervisedDetector),
        (shipped_directory(), LanguageModelDetector),
    ):
        kind = json.loads((directory / "detector.json").read_text(encoding="utf-8"))["kind"]
        assert kind == kind_of(cls) and saved_class(directory) is cls
    assert detector_options(str(shipped_encoder())) == {"device": None, "batch_size": None}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("supervised", "unspun.detect.supervised.model:SupervisedDetector"),
        ("language-model", "unspun.detect.language_model:LanguageModelDetector"),
        ("ensemble", "unspun.detect.ensemble:EnsembleDetector"),
    ],
)
def test_directories_with_the_old_short_kinds_still_load(kind, expected, tmp_path):
    (tmp_path / "detector.json").write_text(json.dumps({"kind": kind}), encoding="utf-8")
    assert kind_of(saved_class(tmp_path)) == expected


def test_an_old_encoder_directory_loads_and_scores(tmp_path):
    from unspun.detect.supervised import shipped_directory

    old = tmp_path / "old"
    shutil.copytree(shipped_directory(), old)
    config = json.loads((old / "detector.json").read_text(encoding="utf-8"))
    config["kind"] = "supervised"
    (old / "detector.json").write_text(json.dumps(config), encoding="utf-8")
    detector = create_detector(str(old), batch_size=4)
    assert detector.name == "supervised" and detector.batch_size == 4
    with pytest.raises(ConfigError, match=r"does not take --model \(it takes --device"):
        create_detector(str(old), model="gpt2")


def test_unreadable_or_foreign_kinds_are_one_line_errors(tmp_path):
    (tmp_path / "detector.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot be read"):
        create_detector(str(tmp_path))
    for kind in ("mystery", None, "json:loads"):
        (tmp_path / "detector.json").write_text(json.dumps({"kind": kind}), encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            create_detector(str(tmp_path))
        assert "\n" not in str(caught.value)
