"""The package ships as one import package: graphfraud, graphfraud.loaders, graphfraud.algorithms."""

from __future__ import annotations

import importlib
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_imports_the_way_a_user_writes_them():
    import graphfraud
    import graphfraud.algorithms
    import graphfraud.loaders

    assert graphfraud.loaders.__name__ == "graphfraud.loaders"
    assert Path(graphfraud.loaders.__file__).parent.name == "loaders"
    assert Path(graphfraud.algorithms.__file__).parent.name == "algorithms"
    assert callable(graphfraud.load) and callable(graphfraud.analyze)


def test_no_generic_top_level_modules_in_the_installed_package():
    from importlib.metadata import distribution

    dist = distribution("graphfraud")
    top = (dist.read_text("top_level.txt") or "graphfraud").split()
    assert top == ["graphfraud"]


def test_wheel_holds_one_top_level_package(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True)
    wheel = next(tmp_path.glob("graphfraud-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"graphfraud", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    assert "graphfraud/loaders/__init__.py" in names
    assert "graphfraud/algorithms/__init__.py" in names
    assert "graphfraud/py.typed" in names


def test_py_typed_marker():
    spec = importlib.util.find_spec("graphfraud")
    assert (Path(spec.origin).parent / "py.typed").exists()


def test_installed_wheel_imports_the_mapped_packages(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path / "w"), str(ROOT)], check=True)
    wheel = next((tmp_path / "w").glob("graphfraud-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(tmp_path / "site"), str(wheel)], check=True)
    code = ("import graphfraud.loaders, graphfraud.algorithms, graphfraud.loaders.schema as s; "
            "print(graphfraud.loaders.__file__); print(len(s.TABLES))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
                         check=True).stdout.split()
    assert out[0].startswith(str(tmp_path / "site")) and out[1] == "6"
