"""Builds the judge binary with cargo and installs it beside the module, as
a script of the distribution: `pip install ./python` gives both.

JUDGE_CARGO_PROFILE picks the cargo profile (default release; `dev` for
a quick build while developing). JUDGE_PREBUILT names a judge binary
already built (with the `http` feature) to install instead of building one.
"""

import os
import shutil
import subprocess

from setuptools import Distribution, setup

try:
    from setuptools.command.build_scripts import build_scripts
except ImportError:  # setuptools before 69 has only distutils' own
    from distutils.command.build_scripts import build_scripts

HERE = os.path.dirname(os.path.abspath(__file__))
WORKSPACE = os.path.dirname(HERE)


class BuildJudge(build_scripts):
    """Build the binary and stage it as the distribution's one script.

    Copied as it is: the base command would read it as a text script to
    rewrite its #! line.
    """

    def run(self):
        prebuilt = os.environ.get("JUDGE_PREBUILT")
        if prebuilt:
            built = prebuilt
        else:
            profile = os.environ.get("JUDGE_CARGO_PROFILE", "release")
            subprocess.run(
                ["cargo", "build", "--locked", "--profile", profile, "-p", "judge",
                 "--features", "http", "--manifest-path", os.path.join(WORKSPACE, "Cargo.toml")],
                check=True,
            )
            target = os.environ.get("CARGO_TARGET_DIR", os.path.join(WORKSPACE, "target"))
            built = os.path.join(target, "debug" if profile == "dev" else profile, "judge")
        os.makedirs(self.build_dir, exist_ok=True)
        shutil.copy2(built, os.path.join(self.build_dir, "judge"))


class BinaryDistribution(Distribution):
    """A wheel for this platform: it holds a native binary."""

    def has_ext_modules(self):
        return True


setup(
    # A name for the script, so that build_scripts runs; BuildJudge makes it.
    scripts=["judge"],
    cmdclass={"build_scripts": BuildJudge},
    distclass=BinaryDistribution,
)
