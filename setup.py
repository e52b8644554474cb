"""advzoo: a Keras model zoo of adversarial methods for biomedical image analysis."""
import pathlib
import re

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent
VERSION = re.search(
    r'__version__ = "([^"]+)"', (HERE / "advzoo" / "version.py").read_text()
).group(1)
REPOSITORY_URL = re.search(
    r'REPOSITORY_URL = "([^"]+)"', (HERE / "advzoo" / "version.py").read_text()
).group(1)

MEDICAL = ["nibabel>=5.0", "pydicom>=2.4"]
NOTEBOOKS = ["nbclient>=0.10", "nbformat>=5.9", "ipykernel>=6.29", "matplotlib>=3.8"]

setup(
    name="advzoo",
    version=VERSION,
    url=REPOSITORY_URL,
    description=(
        "A TensorFlow/Keras model zoo of the adversarial methods used in "
        "biomedical image analysis, with pretrained presets."
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # zoo_weights/ sits at the top of the repository and installs as advzoo/zoo_weights, so
    # non-editable installs carry the pretrained presets too (advzoo.weights looks in both).
    packages=[*find_packages(include=["advzoo", "advzoo.*"]), "advzoo.zoo_weights"],
    # the command's entry point, outside the package so that `advzoo --help` and `advzoo list`
    # do not import TensorFlow (importing advzoo does)
    py_modules=["advzoo_cli"],
    package_dir={"advzoo.zoo_weights": "zoo_weights"},
    package_data={"advzoo": ["data/README.md", "catalog.json"],
                  "advzoo.zoo_weights": ["*/*.json", "*/*.h5"]},
    install_requires=[
        "tensorflow>=2.21",
        "keras>=3.10",
        "numpy>=1.26",
        "scipy>=1.11",
        "scikit-image>=0.22",
        "scikit-learn>=1.4",
        "h5py>=3.10",
        "pillow>=10.0",
        "tensorboard>=2.16",  # TensorFlow 2.21 no longer pulls it in; the TensorBoard callback needs it
    ],
    extras_require={
        "medical": MEDICAL,
        "notebooks": NOTEBOOKS,
        "dev": ["pytest>=8.0", "pytest-timeout>=2.3", "pytest-xdist>=3.5", *MEDICAL, *NOTEBOOKS],
    },
    entry_points={"console_scripts": ["advzoo=advzoo_cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Medical Science Apps.",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
