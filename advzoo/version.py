__version__ = "0.1.0"

# The one place for the repository's address: setup.py's `url`, the Colab notebooks' install
# cell and their "Open in Colab" badges (advzoo.readme.colab_badge) all use it, and
# tests/test_notebooks.py checks that they do. Change it here when the repository moves (the
# notebooks then need their install cell and badge updated: the test says where).
REPOSITORY_URL = "https://github.com/advzoo/advzoo"
