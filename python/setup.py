"""Builds the judge binary with cargo and installs it beside the module, as
a script of the distribution: `pip install ./python` gives both.

JUDGE_CARGO_PROFILE picks the cargo profile (default release; `dev` for
a quick build while developing).
"""

import os
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_scripts import build_scripts

HERE = os.path.dirname(os.path.abspath(__file__))
WORKSPACE = os.path.dirname(HERE)
STAGED = os.path.join("build", "cargo", "judge")


class BuildJudge(build_scripts):
    """Build the binary, then install it as the distribution's script."""

    def run(self):
        profile = os.environ.get("JUDGE_CARGO_PROFILE", "release")
        subprocess.run(
            ["cargo", "build", "--locked", "--profile", profile, "-p", "judge",
             "--features", "http", "--manifest-path", os.path.join(WORKSPACE, "Cargo.toml")],
            check=True,
        )
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(WORKSPACE, "target"))
        built = os.path.join(target, "debug" if profile == "dev" else profile, "judge")
        os.makedirs(os.path.dirname(STAGED), exist_ok=True)
        shutil.copy2(built, STAGED)
        super().run()


class BinaryDistribution(Distribution):
    """A wheel for this platform: it holds a native binary."""

    def has_ext_modules(self):
        return True


setup(
    scripts=[STAGED],
    cmdclass={"build_scripts": BuildJudge},
    distclass=BinaryDistribution,
)
